import { createEvent, type FlowEvent, timestampFromNanos } from "@flow/sdk";
import { type BatchAck, WriteResponse } from "../../gen/consumer_service/v2/consumer";
import { type ProcessedBatch, ProcessResponse } from "../../gen/processor_service/v2/processor";
import { ReadResponse, type SourceBatch } from "../../gen/source_service/v2/source";

/*
 * Events and v2 stream frames for the codec specs (stream-codecs, direct-path-fields, raw-batch):
 * the frames as the generated encoders write them, which the hand-written codecs must read alike.
 */

/** `n` events `e-0`…, each with its own time (1_700_000_000 s plus its index in nanoseconds). */
export const timedEvents = (n: number): FlowEvent[] =>
  Array.from({ length: n }, (_, i) =>
    createEvent({
      id: `e-${i}`,
      source: "urn:test",
      type: "t",
      data: { i },
      time: timestampFromNanos(1_700_000_000_000_000_000n + BigInt(i)),
    }),
  );

/** A v2 ReadResponse carrying `value`, as the generated encoder writes it (fields left out: their defaults). */
export const sourceBatchV2 = (value: Partial<SourceBatch>) =>
  Buffer.from(
    ReadResponse.encode(ReadResponse.fromPartial({ response: { $case: "batch", value } })).finish(),
  );

/** A v2 ProcessResponse carrying `value`, as the generated encoder writes it. */
export const processedBatchV2 = (value: Partial<ProcessedBatch>) =>
  Buffer.from(
    ProcessResponse.encode(ProcessResponse.fromPartial({ response: { $case: "batch", value } })).finish(),
  );

/** A v2 WriteResponse carrying the ack `value`, as the generated encoder writes it. */
export const batchAckV2 = (value: Partial<BatchAck>) =>
  Buffer.from(
    WriteResponse.encode(WriteResponse.fromPartial({ response: { $case: "ack", value } })).finish(),
  );
