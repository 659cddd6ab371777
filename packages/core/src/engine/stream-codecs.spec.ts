import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { createEvent, timestampFromNanos } from "@flow/sdk";
import { toCloudEvent } from "@flow/sdk/internal";
import { AckStatus, WriteRequest, WriteResponse } from "../gen/consumer_service/v1/consumer";
import {
  type BatchAck as BatchAckV2,
  WriteRequest as WriteRequestV2,
  WriteResponse as WriteResponseV2,
} from "../gen/consumer_service/v2/consumer";
import { Event, EventBatch } from "../gen/event/v1/event";
import type { CloudEvent } from "../gen/event/v2/event";
import { ProcessRequest, ProcessResponse } from "../gen/processor_service/v1/processor";
import {
  type ProcessedBatch as ProcessedBatchV2,
  ProcessRequest as ProcessRequestV2,
  ProcessResponse as ProcessResponseV2,
} from "../gen/processor_service/v2/processor";
import { ReadRequest, ReadResponse } from "../gen/source_service/v1/source";
import {
  ReadRequest as ReadRequestV2,
  ReadResponse as ReadResponseV2,
  type SourceBatch as SourceBatchV2,
} from "../gen/source_service/v2/source";
import { firstEventTime } from "./first-event-time";
import {
  countEvents,
  decodeEvents,
  encodeEvents,
  type RawBatch,
  rawBatch,
  referenceBatch,
  splitRawBatch,
} from "./raw-batch";
import {
  decodeProcessResponse,
  decodeReadResponse,
  decodeWriteResponse,
  encodeProcessRequest,
  encodeReadRequest,
  encodeWriteRequest,
} from "./stream-codecs";
import { samplePeer } from "./test-support/sample-peer";

/** A v2 ReadResponse carrying `value`, as the generated encoder writes it (fields left out: their defaults). */
const sourceBatchV2 = (value: Partial<SourceBatchV2>) =>
  Buffer.from(
    ReadResponseV2.encode(ReadResponseV2.fromPartial({ response: { $case: "batch", value } })).finish(),
  );

/** A v2 ProcessResponse carrying `value`, as the generated encoder writes it. */
const processedBatchV2 = (value: Partial<ProcessedBatchV2>) =>
  Buffer.from(
    ProcessResponseV2.encode(ProcessResponseV2.fromPartial({ response: { $case: "batch", value } })).finish(),
  );

/** A v2 WriteResponse carrying the ack `value`, as the generated encoder writes it. */
const batchAckV2 = (value: Partial<BatchAckV2>) =>
  Buffer.from(
    WriteResponseV2.encode(WriteResponseV2.fromPartial({ response: { $case: "ack", value } })).finish(),
  );

const events = (n: number) =>
  Array.from({ length: n }, (_, i) =>
    createEvent({
      id: `e-${i}`,
      source: "urn:test",
      type: "t",
      data: { i },
      time: timestampFromNanos(1_700_000_000_000_000_000n + BigInt(i)),
    }),
  );

describe("raw batches", () => {
  it("counts events without decoding them, for empty, small and large batches", () => {
    for (const n of [0, 1, 7, 500]) {
      const bytes = EventBatch.encode({ events: events(n) as never }).finish();
      expect(countEvents(bytes)).toBe(n);
    }
  });

  it("counts only field 1 and steps over unknown fields of every wire type, groups included", () => {
    const writer = new BinaryWriter();
    const event = Event.encode(events(1)[0] as never).finish();
    writer.tag(1, WireType.LengthDelimited).bytes(event);
    writer.tag(2, WireType.Varint).uint64(2n ** 63n);
    writer.tag(3, WireType.Bit64).fixed64(1n);
    writer.tag(4, WireType.Bit32).fixed32(7);
    writer.tag(5, WireType.LengthDelimited).bytes(new Uint8Array(300));
    writer.tag(1, WireType.LengthDelimited).bytes(event);
    writer.tag(100_000, WireType.LengthDelimited).bytes(event);
    expect(countEvents(writer.finish())).toBe(2);
    const withGroup = new BinaryWriter()
      .tag(6, WireType.StartGroup)
      .tag(1, WireType.Varint)
      .int32(1)
      .tag(6, WireType.EndGroup)
      .tag(1, WireType.LengthDelimited)
      .bytes(event)
      .finish();
    expect(countEvents(withGroup)).toBe(1);
  });

  it("refuses bytes that end inside a field instead of counting a partial event", () => {
    const bytes = EventBatch.encode({ events: events(2) as never }).finish();
    expect(() => countEvents(bytes.subarray(0, bytes.length - 3))).toThrow();
    expect(() => countEvents(Uint8Array.of(0x0a, 0x80))).toThrow();
  });

  it("cuts a batch into parts of at most n events, in order, without decoding them", () => {
    const batch = encodeEvents(events(10));
    expect(splitRawBatch(batch, 10)).toEqual([batch]);
    const parts = splitRawBatch(batch, 4);
    expect(parts.map((part) => part.count)).toEqual([4, 4, 2]);
    expect(parts.flatMap((part) => decodeEvents(part).map((event) => event.id))).toEqual(
      events(10).map((event) => event.id),
    );
    for (const part of parts) expect(countEvents(part.bytes)).toBe(part.count);
  });

  it("gives every part the batch-level fields it does not know", () => {
    const unknown = new BinaryWriter().tag(9, WireType.Varint).uint32(7).finish();
    const withExtra = Buffer.concat([unknown, encodeEvents(events(3)).bytes]);
    const parts = splitRawBatch(rawBatch(withExtra, 1), 2);
    expect(parts.map((part) => part.count)).toEqual([2, 1]);
    for (const part of parts)
      expect(Buffer.from(part.bytes.subarray(0, unknown.length))).toEqual(Buffer.from(unknown));
  });

  it("decodes the events and the first event's time when asked", () => {
    const batch = encodeEvents(events(3));
    expect(decodeEvents(batch).map((event) => event.id)).toEqual(["e-0", "e-1", "e-2"]);
    expect(firstEventTime(batch)).toMatchObject({ seconds: 1_700_000_000n, nanos: 0 });
    expect(firstEventTime(encodeEvents([]))).toBeUndefined();
    expect(firstEventTime(encodeEvents(events(3).slice(1)))).toMatchObject({
      seconds: 1_700_000_000n,
      nanos: 1,
    });
    const untimed = createEvent({ id: "u", source: "urn:test", type: "t", data: { big: "x".repeat(500) } });
    expect(firstEventTime(encodeEvents([untimed, ...events(1)]))).toBeUndefined();
  });
});

describe("stream codecs agree with the generated codecs", () => {
  it("reads a SourceBatch with its sequence, raw events and checkpoint, skipping unknown fields", () => {
    const frame = Buffer.from(
      ReadResponse.encode({
        response: {
          $case: "batch",
          value: {
            sequence: 2n ** 63n - 1n,
            batch: { events: events(4) as never },
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
    const batch = encodeEvents(events(5));
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
      request: { $case: "start" as const, value: { configJson: "{}", stageId: "s", peers: [] } },
    };
    expect(ProcessRequestV2.decode(encodeProcessRequest({ start }))).toMatchObject(start);
  });

  it("reads a ProcessedBatch with output, dead letters and a failure", () => {
    const [first, second] = events(2);
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
  const cloudEvents = (n: number) => events(n).map((event) => toCloudEvent(event));

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
    expect(answer?.deadLetters[0]?.event).toEqual(events(2)[1]);
  });

  it("write v2 batch requests the generated v2 decoders read back", () => {
    const batch = encodeEvents(events(2), 2);
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
      request: { $case: "start" as const, value: { configJson: "{}", stageId: "p", peers: [] } },
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

describe("stream codecs on the direct data path (v2.1): references instead of events", () => {
  const ref = { stream: "9f0c6f6e-1f7a-4c55-9d2b-3c1a5b7e8d10", handle: 2n ** 40n };
  const cloudBatch = (n: number) => ({ events: events(n).map((event) => toCloudEvent(event) as CloudEvent) });
  const peer = samplePeer("sink", "unix:/run/sink.sock");

  it("read a SourceBatch that names a reference as a batch of no bytes, its count and size as the source said", () => {
    const frame = sourceBatchV2({
      sequence: 3n,
      ref,
      eventCount: 7,
      batchBytes: 5_000_000_000n,
      checkpoint: { position: Buffer.from([3]), description: "at 3" },
    });
    const message = decodeReadResponse(frame, 2);
    expect(message).toEqual({
      kind: "batch",
      sequence: 3n,
      batch: { bytes: new Uint8Array(0), count: 7, size: 5_000_000_000, major: 2, ref },
      checkpoint: { position: Buffer.from([3]), description: "at 3" },
    });
    if (message.kind !== "batch") return;
    expect(() => decodeEvents(message.batch)).toThrow(
      `Core cannot read the events of a batch it knows only by reference (stream ${ref.stream} handle ${ref.handle}, 7 events on the direct data path): this is a bug in Flow Core`,
    );
    expect(firstEventTime(message.batch)).toBeUndefined();
    // A v1 stream never carries references: the fields are unknown there, and skipped.
    const v1 = decodeReadResponse(frame, 1);
    expect(v1.kind === "batch" && v1.batch).toEqual({ bytes: new Uint8Array(0), count: 0, major: 1 });
  });

  it("read a SourceBatch with events as before, references left out", () => {
    const frame = sourceBatchV2({
      sequence: 1n,
      batch: cloudBatch(2),
      checkpoint: { position: Buffer.from([1]), description: "" },
    });
    const message = decodeReadResponse(frame, 2);
    expect(message.kind === "batch" && message.batch.ref).toBeUndefined();
    expect(message.kind === "batch" && message.batch.count).toBe(2);
  });

  it("write an InputBatch and a WriteBatch by reference byte for byte as the generated v2 encoders", () => {
    const batch = referenceBatch(ref, 7, 700);
    const generatedInput = ProcessRequestV2.encode({
      request: { $case: "batch", value: { sequence: 300n, ref } },
    }).finish();
    expect(encodeProcessRequest({ sequence: 300n, batch })).toEqual(Buffer.from(generatedInput));
    const generatedWrite = WriteRequestV2.encode({
      request: { $case: "batch", value: { sequence: 300n, ref } },
    }).finish();
    expect(encodeWriteRequest({ sequence: 300n, batch })).toEqual(Buffer.from(generatedWrite));
    const decoded = WriteRequestV2.decode(encodeWriteRequest({ sequence: 300n, batch }));
    expect(decoded.request?.$case === "batch" && decoded.request.value).toMatchObject({
      sequence: 300n,
      batch: undefined,
      ref,
    });
  });

  it("write the start messages with their peers byte for byte as the generated v2 encoders, and without any as v1's", () => {
    const processStart = {
      request: { $case: "start" as const, value: { configJson: "{}", stageId: "p", peers: [peer] } },
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
    };
    const withPeers = { request: { $case: "start" as const, value: { ...readStart, peers: [peer, peer] } } };
    expect(encodeReadRequest(withPeers)).toEqual(Buffer.from(ReadRequestV2.encode(withPeers).finish()));
    expect(ReadRequestV2.decode(encodeReadRequest(withPeers))).toMatchObject(withPeers);
    const withoutPeers = { request: { $case: "start" as const, value: { ...readStart, peers: [] } } };
    expect(encodeReadRequest(withoutPeers)).toEqual(
      Buffer.from(ReadRequest.encode({ request: { $case: "start", value: readStart } }).finish()),
    );
  });

  it("read a ProcessedBatch's output_ref, output_count and output_bytes as a reference batch", () => {
    const frame = processedBatchV2({
      inputSequence: 9n,
      outputRef: ref,
      outputCount: 4,
      outputBytes: 444n,
      deadLetters: [],
    });
    expect(decodeProcessResponse(frame, 2)).toEqual({
      inputSequence: 9n,
      batch: referenceBatch(ref, 4, 444),
      deadLetters: [],
    });
    expect(decodeProcessResponse(frame, 1)?.batch).toEqual({ bytes: new Uint8Array(0), count: 0, major: 1 });
  });

  it("read a ProcessedBatch's returned events (as bytes) and ref_missing", () => {
    const failed = processedBatchV2({
      inputSequence: 2n,
      deadLetters: [],
      failure: { reason: "busy", retryable: true },
      returned: cloudBatch(3),
    });
    const answer = decodeProcessResponse(failed, 2);
    expect(answer?.failure).toEqual({ reason: "busy", retryable: true });
    expect(answer?.returned).toMatchObject({ count: 3, major: 2 });
    expect(decodeEvents(answer?.returned as RawBatch).map((event) => event.id)).toEqual([
      "e-0",
      "e-1",
      "e-2",
    ]);
    expect(answer?.refMissing).toBeUndefined();
    const missing = processedBatchV2({ inputSequence: 2n, deadLetters: [], refMissing: true });
    expect(decodeProcessResponse(missing, 2)?.refMissing).toBe(true);
    expect(decodeProcessResponse(missing, 1)?.refMissing).toBeUndefined();
  });

  it("read a BatchAck as the generated decoders do, with returned (as bytes) and ref_missing on v2", () => {
    const ack = { sequence: 2n ** 63n, status: AckStatus.ACK_STATUS_RETRYABLE_FAILURE, reason: "busy" };
    const plain = batchAckV2(ack);
    expect(decodeWriteResponse(plain, 2)).toEqual({ response: { $case: "ack", value: ack } });
    expect(WriteResponse.decode(plain)).toMatchObject(decodeWriteResponse(plain, 1));
    const failed = batchAckV2({ ...ack, returned: cloudBatch(2), refMissing: true });
    const answer = decodeWriteResponse(failed, 2);
    const value = answer.response?.$case === "ack" ? answer.response.value : undefined;
    expect(value).toMatchObject({ ...ack, refMissing: true, returned: { count: 2, major: 2 } });
    expect(decodeEvents(value?.returned as RawBatch).map((event) => event.id)).toEqual(["e-0", "e-1"]);
    expect(decodeWriteResponse(failed, 1)).toEqual({ response: { $case: "ack", value: ack } });
    const flushed = Buffer.from(
      WriteResponseV2.encode(
        WriteResponseV2.fromPartial({ response: { $case: "flushed", value: { token: 5n } } }),
      ).finish(),
    );
    expect(decodeWriteResponse(flushed, 2)).toMatchObject({
      response: { $case: "flushed", value: { token: 5n } },
    });
  });
});
