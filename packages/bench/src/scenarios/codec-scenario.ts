import { measureOperationRate } from "../codec/operation-rate";
import { syntheticBatch, syntheticPayload } from "../codec/synthetic-events";
import { WriteRequest } from "../gen/consumer_service/v1/consumer";
import { EventBatch } from "../gen/event/v1/event";
import { ReadResponse } from "../gen/source_service/v1/source";
import type { Measurement, Scenario } from "../scenario";

// The floor under every stage: no pipeline that decodes events can move them faster than the
// generated code decodes and encodes them, whatever the transport.

const BATCH_SIZES = [100, 500] as const;
const MEGABYTE = 1_000_000;

export const codecScenario: Scenario = {
  name: "codec",
  description: "ts-proto encode and decode of an EventBatch (200-byte payloads), events/s and MB/s",
  async measure(context) {
    const minDurationMs = context.quick ? 40 : 500;
    const payload = syntheticPayload();
    const measurements: Measurement[] = [];
    for (const batchSize of BATCH_SIZES) {
      const batch = syntheticBatch(0, batchSize, payload);
      const encoded = EventBatch.encode(batch).finish();
      const bytes = encoded.length;
      const encode = measureOperationRate(() => EventBatch.encode(batch).finish(), minDurationMs);
      const decode = measureOperationRate(() => EventBatch.decode(encoded), minDurationMs);
      // What the baseline's middle process does per batch: decode what the source sent and encode
      // what the sink receives, with the envelopes of the two contracts around the events.
      const readResponse = ReadResponse.encode({
        response: { $case: "batch", value: { sequence: 1n, batch, checkpoint: undefined } },
      }).finish();
      const transcode = measureOperationRate(() => {
        const decoded = ReadResponse.decode(readResponse);
        if (decoded.response?.$case !== "batch") throw new Error("unexpected response");
        const { sequence, batch: events } = decoded.response.value;
        return WriteRequest.encode({
          request: { $case: "batch", value: { sequence, batch: events } },
        }).finish();
      }, minDurationMs);

      const figure = (operation: string) => `${operation} batch=${batchSize}`;
      measurements.push(
        { figure: figure("encode"), unit: "events/s", value: encode.operationsPerSecond * batchSize },
        { figure: figure("encode"), unit: "MB/s", value: (encode.operationsPerSecond * bytes) / MEGABYTE },
        { figure: figure("decode"), unit: "events/s", value: decode.operationsPerSecond * batchSize },
        { figure: figure("decode"), unit: "MB/s", value: (decode.operationsPerSecond * bytes) / MEGABYTE },
        {
          figure: figure("decode+re-encode"),
          unit: "events/s",
          value: transcode.operationsPerSecond * batchSize,
        },
      );
    }
    return measurements;
  },
};
