import type { EventMajor } from "@flow/sdk";
import { convertEventBatch } from "@flow/sdk/internal";
import { measureOperationRate } from "../codec/operation-rate";
import { PAYLOAD_BYTES, syntheticBatch, syntheticPayload } from "../codec/synthetic-events";
import { type FlowStage, runFlowPipeline } from "../flow/flow-pipeline-run";
import { EventBatch } from "../gen/event/v1/event";
import type { Measurement, Scenario } from "../scenario";
import { cpuText } from "./baseline-pipeline-scenarios";
import { flowSettings, runFigures } from "./flow-scenarios";

// What an edge between two contract majors costs (issue 14): Core converts every batch that
// crosses it (event v1 <-> the CloudEvents Protobuf Format), where an edge between stages of one
// major forwards the bytes as they came.

const CONVERTING_EDGE = "flow-converting-edge";
const CONVERSION = "event-conversion";
const PIPELINE_BATCH_SIZES = [100] as const;

/** The pipeline's stages pinned to a major, and the major each must then speak. */
const VARIANTS: {
  name: string;
  pins: Partial<Record<FlowStage, number>>;
  spoken: Record<FlowStage, number>;
}[] = [
  { name: "all v2", pins: {}, spoken: { gen: 2, identity: 2, count: 2 } },
  // The consumer pinned to v1: Core converts identity -> count (v2 -> v1), nothing else.
  { name: "one converting edge", pins: { count: 1 }, spoken: { gen: 2, identity: 2, count: 1 } },
  { name: "all v1", pins: { gen: 1, identity: 1, count: 1 }, spoken: { gen: 1, identity: 1, count: 1 } },
];

export const flowConvertingEdgeScenario: Scenario = {
  name: CONVERTING_EDGE,
  description:
    "generator -> identity processor -> counting consumer all on v2, with the consumer pinned to v1 (Core converts one edge), and all on v1",
  async measure(context) {
    const measurements: Measurement[] = [];
    for (const batchSize of context.batchSizes ?? PIPELINE_BATCH_SIZES) {
      for (const variant of VARIANTS) {
        const result = await runFlowPipeline(
          flowSettings(context, { batchSize, contractMajors: variant.pins }),
        );
        const spoken = Object.fromEntries(
          result.run.stages.map((stage) => [stage.stageId, stage.contractMajor]),
        );
        if (JSON.stringify(spoken) !== JSON.stringify(variant.spoken))
          throw new Error(
            `${variant.name}: the stages spoke ${JSON.stringify(spoken)}, not ${JSON.stringify(variant.spoken)}`,
          );
        const versus =
          variant === VARIANTS[0]
            ? undefined
            : { scenario: CONVERTING_EDGE, figure: `all v2 batch=${batchSize}` };
        measurements.push(
          ...runFigures(context, `${variant.name} batch=${batchSize}`, result, {
            events: versus,
            cpu: versus,
            detail: `${result.report.events.toLocaleString("en-US")} events of ${PAYLOAD_BYTES} B; majors ${JSON.stringify(spoken)}; ${cpuText({ ...result.cpuSeconds })}`,
          }),
        );
      }
    }
    return measurements;
  },
};

/** Events as the generator makes them: JSON data (event v2's text_data), time, a content type. */
function jsonBatch(count: number): EventBatch {
  const batch = syntheticBatch(0, count, syntheticPayload());
  const payload = Buffer.from(JSON.stringify({ seq: 1, pad: "x".repeat(PAYLOAD_BYTES - 20) }));
  for (const event of batch.events) {
    event.datacontenttype = "application/json";
    event.data = payload;
  }
  return batch;
}

const KINDS = [
  { kind: "json", batch: jsonBatch },
  { kind: "binary", batch: (count: number) => syntheticBatch(0, count, syntheticPayload()) },
] as const;

export const eventConversionScenario: Scenario = {
  name: CONVERSION,
  description:
    "Core's conversion of an encoded batch, convertEventBatch v1 -> v2 and v2 -> v1, against the same major (bytes as they are), events/s",
  async measure(context) {
    const minDurationMs = context.quick ? 40 : 500;
    const measurements: Measurement[] = [];
    for (const batchSize of [100, 500]) {
      for (const { kind, batch } of KINDS) {
        const v1 = EventBatch.encode(batch(batchSize)).finish();
        const v2 = convertEventBatch(v1, 1, 2).bytes;
        const rate = (bytes: Uint8Array, from: EventMajor, to: EventMajor) =>
          measureOperationRate(() => convertEventBatch(bytes, from, to), minDurationMs).operationsPerSecond *
          batchSize;
        const same = `same major ${kind} batch=${batchSize}`;
        const versus = { scenario: CONVERSION, figure: same };
        measurements.push(
          {
            figure: same,
            unit: "events/s",
            value: rate(v1, 1, 1),
            detail: `${kind} data of ${PAYLOAD_BYTES} B; the batch is returned as it is, its events counted`,
          },
          {
            figure: `v1->v2 ${kind} batch=${batchSize}`,
            unit: "events/s",
            value: rate(v1, 1, 2),
            ratioVs: versus,
          },
          {
            figure: `v2->v1 ${kind} batch=${batchSize}`,
            unit: "events/s",
            value: rate(v2, 2, 1),
            ratioVs: versus,
          },
        );
      }
    }
    return measurements;
  },
};

export const contractMajorScenarios: readonly Scenario[] = [
  eventConversionScenario,
  flowConvertingEdgeScenario,
];
