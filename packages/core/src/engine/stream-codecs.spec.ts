import { createEvent } from "@flow/sdk";
import { toCloudEvent } from "@flow/sdk/internal";
import { WriteRequest, WriteResponse } from "../gen/consumer_service/v1/consumer";
import {
  WriteRequest as WriteRequestV2,
  WriteResponse as WriteResponseV2,
} from "../gen/consumer_service/v2/consumer";
import type { CloudEvent } from "../gen/event/v2/event";
import { ProcessRequest, ProcessResponse } from "../gen/processor_service/v1/processor";
import { ProcessRequest as ProcessRequestV2 } from "../gen/processor_service/v2/processor";
import { ReadRequest, ReadResponse } from "../gen/source_service/v1/source";
import { ReadRequest as ReadRequestV2 } from "../gen/source_service/v2/source";
import { firstEventTime } from "./first-event-time";
import { decodeEvents, encodeEvents, rawBatch } from "./raw-batch";
import {
  BATCH_REQUEST_FRAMING_BYTES,
  decodeProcessResponse,
  decodeReadResponse,
  encodeProcessRequest,
  encodeReadRequest,
  encodeWriteRequest,
} from "./stream-codecs";
import { processedBatchV2, sourceBatchV2, timedEvents } from "./test-support/codec-samples";
import { samplePeer } from "./test-support/sample-peer";

describe("stream codecs agree with the generated codecs", () => {
  it("reads a SourceBatch with its sequence, raw events and checkpoint, skipping unknown fields", () => {
    const frame = Buffer.from(
      ReadResponse.encode({
        response: {
          $case: "batch",
          value: {
            sequence: 2n ** 63n - 1n,
            batch: { events: timedEvents(4) as never },
            checkpoint: { position: Buffer.from([1, 2, 3]), description: "at 3" },
          },
        },
      }).finish(),
    );
    // An extra top-level field (number 15, varint) a newer contract might add.
    const withUnknown = Buffer.concat([frame, Buffer.from([15 << 3, 1])]);
    const message = decodeReadResponse(withUnknown, 1);
    expect(message.kind).toBe("batch");
    if (message.kind !== "batch") return;
    expect(message.sequence).toBe(2n ** 63n - 1n);
    expect(message.batch.count).toBe(4);
    expect(decodeEvents(message.batch).map((event) => event.id)).toEqual(["e-0", "e-1", "e-2", "e-3"]);
    expect(message.checkpoint).toEqual({ position: Buffer.from([1, 2, 3]), description: "at 3" });
  });

  it("reads exhausted", () => {
    const frame = Buffer.from(
      ReadResponse.encode({ response: { $case: "exhausted", value: { lastSequence: 9n } } }).finish(),
    );
    expect(decodeReadResponse(frame, 1)).toEqual({ kind: "exhausted", lastSequence: 9n });
  });

  it("writes batch requests the generated decoders read back exactly", () => {
    const batch = encodeEvents(timedEvents(5));
    const process = ProcessRequest.decode(encodeProcessRequest({ sequence: 42n, batch }));
    expect(process.request?.$case).toBe("batch");
    if (process.request?.$case !== "batch") return;
    expect(process.request.value.sequence).toBe(42n);
    expect(process.request.value.batch?.events.map((event) => event.id)).toEqual([
      "e-0",
      "e-1",
      "e-2",
      "e-3",
      "e-4",
    ]);

    const write = WriteRequest.decode(encodeWriteRequest({ sequence: 7n, batch }));
    expect(write.request?.$case === "batch" && write.request.value.batch?.events.length).toBe(5);

    const start = {
      request: {
        $case: "start" as const,
        value: { configJson: "{}", stageId: "s", peers: [], acceptsBundles: false },
      },
    };
    expect(ProcessRequestV2.decode(encodeProcessRequest({ start }))).toMatchObject(start);
  });

  it("reads a ProcessedBatch with output, dead letters and a failure", () => {
    const [first, second] = timedEvents(2);
    const frame = Buffer.from(
      ProcessResponse.encode({
        response: {
          $case: "batch",
          value: {
            inputSequence: 3n,
            batch: { events: [first] as never },
            deadLetters: [{ event: second as never, reason: "bad payload" }],
            failure: { reason: "try later", retryable: true },
          },
        },
      }).finish(),
    );
    const answer = decodeProcessResponse(frame, 1);
    expect(answer?.inputSequence).toBe(3n);
    expect(answer?.batch.count).toBe(1);
    expect(answer?.deadLetters.map((letter) => [letter.event.id, letter.reason])).toEqual([
      ["e-1", "bad payload"],
    ]);
    expect(answer?.failure).toEqual({ reason: "try later", retryable: true });
    expect(rawBatch(answer?.batch.bytes ?? new Uint8Array(), 1).count).toBe(1);
  });
});

describe("stream codecs serve both majors: v2's stream messages are v1's, field for field", () => {
  const cloudEvents = (n: number) => timedEvents(n).map((event) => toCloudEvent(event));

  it("read a v2 SourceBatch as a batch of event v2, its time and events readable", () => {
    const frame = sourceBatchV2({
      sequence: 5n,
      batch: { events: cloudEvents(3) },
      checkpoint: { position: Buffer.from([9]), description: "at 9" },
    });
    const message = decodeReadResponse(frame, 2);
    if (message.kind !== "batch") throw new Error(`read ${message.kind}`);
    expect(message.batch).toMatchObject({ count: 3, major: 2 });
    expect(decodeEvents(message.batch).map((event) => event.id)).toEqual(["e-0", "e-1", "e-2"]);
    expect(firstEventTime(message.batch)).toMatchObject({ seconds: 1_700_000_000n, nanos: 0 });
    expect(message.checkpoint).toEqual({ position: Buffer.from([9]), description: "at 9" });
  });

  it("read a v2 ProcessedBatch's output and dead letters in event v2", () => {
    const [kept, dropped] = cloudEvents(2);
    const frame = processedBatchV2({
      inputSequence: 4n,
      batch: { events: [kept as CloudEvent] },
      deadLetters: [{ event: dropped, reason: "no" }],
    });
    const answer = decodeProcessResponse(frame, 2);
    expect(answer?.batch).toMatchObject({ count: 1, major: 2 });
    expect(answer?.deadLetters.map((letter) => [letter.event.id, letter.reason])).toEqual([["e-1", "no"]]);
    expect(answer?.deadLetters[0]?.event).toEqual(timedEvents(2)[1]);
  });

  it("write v2 batch requests the generated v2 decoders read back", () => {
    const batch = encodeEvents(timedEvents(2), 2);
    const process = ProcessRequestV2.decode(encodeProcessRequest({ sequence: 3n, batch }));
    expect(
      process.request?.$case === "batch" && process.request.value.batch?.events.map((e) => e.id),
    ).toEqual(["e-0", "e-1"]);
    const write = WriteRequestV2.decode(encodeWriteRequest({ sequence: 8n, batch }));
    expect(write.request?.$case === "batch" && write.request.value.sequence).toBe(8n);
  });

  it("share the generated v1 codecs for every message without events: the same bytes in v2", () => {
    const start = {
      request: {
        $case: "start" as const,
        value: {
          configJson: '{"a":1}',
          checkpoint: { position: Buffer.from([1]), description: "d" },
          initialCredits: 8,
          maxBatchSize: 100,
          maxBatchBytes: 1000n,
          lingerMs: 5,
          stageId: "src",
        },
      },
    };
    expect(Buffer.from(ReadRequestV2.encode(ReadRequestV2.fromPartial(start)).finish())).toEqual(
      Buffer.from(ReadRequest.encode(start).finish()),
    );
    const credit = { request: { $case: "credit" as const, value: { batches: 3 } } };
    expect(Buffer.from(ReadRequestV2.encode(credit).finish())).toEqual(
      Buffer.from(ReadRequest.encode(credit).finish()),
    );
    const processStart = {
      request: {
        $case: "start" as const,
        value: { configJson: "{}", stageId: "p", peers: [], acceptsBundles: false },
      },
    };
    expect(Buffer.from(ProcessRequest.encode(processStart).finish())).toEqual(
      encodeProcessRequest({ start: processStart }),
    );
    expect(Buffer.from(WriteRequestV2.encode(processStart).finish())).toEqual(
      encodeWriteRequest({ start: processStart }),
    );
    const ack = {
      response: { $case: "ack" as const, value: { sequence: 4n, status: 2, reason: "retry" } },
    };
    expect(
      WriteResponse.decode(WriteResponseV2.encode(WriteResponseV2.fromPartial(ack)).finish()),
    ).toMatchObject(ack);
  });
});

describe("BATCH_REQUEST_FRAMING_BYTES", () => {
  it("bounds what a Process or Write request adds around its batch, at the largest sequence", () => {
    // A 3 MiB batch: four-byte lengths; a five-byte length would need a 256 MiB batch.
    const big = encodeEvents([
      createEvent({ id: "big", source: "urn:test", type: "t", data: "x".repeat(3 * 1024 * 1024) }),
    ]);
    const small = encodeEvents(timedEvents(1));
    for (const encode of [encodeProcessRequest, encodeWriteRequest]) {
      const request = encode({ sequence: 2n ** 64n - 1n, batch: big });
      expect(request.length - big.bytes.length).toBe(BATCH_REQUEST_FRAMING_BYTES - 2);
      const smallRequest = encode({ sequence: 1n, batch: small });
      expect(smallRequest.length - small.bytes.length).toBeLessThanOrEqual(BATCH_REQUEST_FRAMING_BYTES);
    }
  });
});

describe("stream codecs on the direct data path (v2.1): the start messages name the peers", () => {
  const peer = samplePeer("sink", "unix:/run/sink.sock");

  it("write the start messages with their peers byte for byte as the generated v2 encoders, and without any as v1's", () => {
    const processStart = {
      request: {
        $case: "start" as const,
        value: { configJson: "{}", stageId: "p", peers: [peer], acceptsBundles: false },
      },
    };
    expect(encodeProcessRequest({ start: processStart })).toEqual(
      Buffer.from(ProcessRequestV2.encode(processStart).finish()),
    );
    expect(ProcessRequestV2.decode(encodeProcessRequest({ start: processStart }))).toMatchObject(
      processStart,
    );
    const readStart = {
      configJson: "{}",
      checkpoint: undefined,
      initialCredits: 4,
      maxBatchSize: 10,
      maxBatchBytes: 1000n,
      lingerMs: 5,
      stageId: "src",
      acceptsBundles: false,
    };
    const withPeers = { request: { $case: "start" as const, value: { ...readStart, peers: [peer, peer] } } };
    expect(encodeReadRequest(withPeers)).toEqual(Buffer.from(ReadRequestV2.encode(withPeers).finish()));
    expect(ReadRequestV2.decode(encodeReadRequest(withPeers))).toMatchObject(withPeers);
    const withoutPeers = { request: { $case: "start" as const, value: { ...readStart, peers: [] } } };
    expect(encodeReadRequest(withoutPeers)).toEqual(
      Buffer.from(ReadRequest.encode({ request: { $case: "start", value: readStart } }).finish()),
    );
  });
});
