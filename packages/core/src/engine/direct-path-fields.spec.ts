import { BinaryReader, type WireType } from "@bufbuild/protobuf/wire";
import { toCloudEvent } from "@flow/sdk/internal";
import { AckStatus, WriteResponse } from "../gen/consumer_service/v1/consumer";
import {
  BatchAck,
  WriteRequest as WriteRequestV2,
  WriteResponse as WriteResponseV2,
} from "../gen/consumer_service/v2/consumer";
import type { CloudEvent } from "../gen/event/v2/event";
import { ProcessedBatch, ProcessRequest as ProcessRequestV2 } from "../gen/processor_service/v2/processor";
import { SourceBatch } from "../gen/source_service/v2/source";
import { pushedBatch, readDirectAnswer } from "./direct-path-fields";
import { firstEventTime } from "./first-event-time";
import { decodeEvents, type RawBatch } from "./raw-batch";
import { referenceBatch } from "./reference-batch";
import {
  decodeProcessResponse,
  decodeReadResponse,
  decodeWriteResponse,
  encodeProcessRequest,
  encodeWriteRequest,
} from "./stream-codecs";
import { batchAckV2, processedBatchV2, sourceBatchV2, timedEvents } from "./test-support/codec-samples";

const ref = { stream: "9f0c6f6e-1f7a-4c55-9d2b-3c1a5b7e8d10", handle: 2n ** 40n };
const cloudBatch = (n: number) => ({
  events: timedEvents(n).map((event) => toCloudEvent(event) as CloudEvent),
});

/** Offers each top-level field of `bytes` to `read`, skipping what it does not take: the numbers of those. */
function offerFields(
  bytes: Uint8Array,
  read: (reader: BinaryReader, field: number, wireType: WireType) => boolean,
): number[] {
  const reader = new BinaryReader(bytes);
  const left: number[] = [];
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (read(reader, field, wireType)) continue;
    left.push(field);
    reader.skip(wireType, field);
  }
  return left;
}

describe("the direct data path's fields, each read alone", () => {
  /** What pushedBatch reads of `bytes` with the reference at `refField`, and the fields it leaves. */
  function pushedOf(bytes: Uint8Array, refField: number) {
    const pushed = pushedBatch();
    const left = offerFields(bytes, (reader, field, wireType) =>
      pushed.read(reader, field, wireType, refField),
    );
    return { batch: pushed.batch(), left };
  }

  it("pushedBatch takes a reference, its count and size from the field numbers it is given, and nothing else", () => {
    const source = SourceBatch.fromPartial({ sequence: 3n, ref, eventCount: 7, batchBytes: 700n });
    expect(pushedOf(SourceBatch.encode(source).finish(), 4)).toEqual({
      batch: referenceBatch(ref, 7, 700),
      left: [1],
    });
    const processed = ProcessedBatch.fromPartial({
      inputSequence: 1n,
      outputRef: ref,
      outputCount: 2,
      outputBytes: 20n,
    });
    expect(pushedOf(ProcessedBatch.encode(processed).finish(), 5)).toEqual({
      batch: referenceBatch(ref, 2, 20),
      left: [1],
    });
    // A count and a size with no reference name no batch.
    const countOnly = SourceBatch.fromPartial({ eventCount: 7, batchBytes: 700n });
    expect(pushedOf(SourceBatch.encode(countOnly).finish(), 4)).toEqual({ batch: undefined, left: [] });
  });

  it("readDirectAnswer takes returned (as bytes, event v2) and ref_missing from the field numbers it is given, and nothing else", () => {
    const ack = BatchAck.encode(
      BatchAck.fromPartial({
        sequence: 4n,
        status: AckStatus.ACK_STATUS_RETRYABLE_FAILURE,
        reason: "busy",
        returned: cloudBatch(2),
        refMissing: true,
      }),
    ).finish();
    const answer: { returned?: RawBatch; refMissing?: boolean } = {};
    const left = offerFields(ack, (reader, field, wireType) =>
      readDirectAnswer(reader, field, wireType, answer, 4),
    );
    expect(left).toEqual([1, 2, 3]);
    expect(answer).toMatchObject({ refMissing: true, returned: { count: 2, major: 2 } });
    expect(decodeEvents(answer.returned as RawBatch).map((event) => event.id)).toEqual(["e-0", "e-1"]);
  });
});

describe("the stream codecs on the direct data path (v2.1): references instead of events", () => {
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
