import { PAYLOAD_BYTES } from "../codec/synthetic-events";
import { type MiddleVariant, runBaselinePipeline } from "../pipeline/baseline-pipeline-run";
import { cpuMeasurements } from "../report/cpu-figures";
import type { Measurement, Scenario, ScenarioContext } from "../scenario";

// The hand-written grpc-js pipeline Flow is measured against, and its bytes-forwarding variant for
// reference. Both use the same source, sink, credit window and sizes; only the middle differs.

export const PIPELINE_BATCH_SIZES = [1, 10, 100, 500] as const;
export const FULL_PIPELINE_EVENTS = 1_000_000;
export const QUICK_PIPELINE_EVENTS = 5_000;
/**
 * Batches in flight between source and sink. Enough to keep both links busy at every batch size
 * (a round trip on loopback carries many batches), small enough that memory stays bounded: at
 * batch 500 it is about 4.5 MB of events.
 */
export const BASELINE_CREDITS = 32;

export const BASELINE_PIPELINE = "pipeline-baseline";
export const FORWARDING_PIPELINE = "pipeline-forward-bytes";

export function pipelineFigure(batchSize: number): string {
  return `batch=${batchSize}`;
}

export function pipelineEvents(context: ScenarioContext): number {
  return context.events ?? (context.quick ? QUICK_PIPELINE_EVENTS : FULL_PIPELINE_EVENTS);
}

export function pipelineBatchSizes(context: ScenarioContext): readonly number[] {
  return context.batchSizes ?? PIPELINE_BATCH_SIZES;
}

/** "CPU s: a 1.2, b 3.4 (total 4.6)": what each process of one run used, start-up included. */
export function cpuText(seconds: Record<string, number>): string {
  const entries = Object.entries(seconds);
  const total = entries.reduce((sum, [, value]) => sum + value, 0);
  return `CPU s over the whole run: ${entries.map(([name, value]) => `${name} ${value.toFixed(2)}`).join(", ")} (total ${total.toFixed(2)})`;
}

async function measurePipeline(
  context: ScenarioContext,
  variant: MiddleVariant,
  compareWith?: string,
): Promise<Measurement[]> {
  const events = pipelineEvents(context);
  const measurements: Measurement[] = [];
  for (const batchSize of pipelineBatchSizes(context)) {
    const result = await runBaselinePipeline({
      variant,
      events,
      batchSize,
      credits: BASELINE_CREDITS,
      payloadBytes: PAYLOAD_BYTES,
    });
    context.log(
      `batch=${batchSize}: ${Math.round(result.eventsPerSecond).toLocaleString("en-US")} events/s (${result.elapsedSeconds.toFixed(2)} s)`,
    );
    const figure = pipelineFigure(batchSize);
    measurements.push({
      figure,
      unit: "events/s",
      value: result.eventsPerSecond,
      ratioVs: compareWith === undefined ? undefined : { scenario: compareWith, figure },
      detail: `${events.toLocaleString("en-US")} events of ${PAYLOAD_BYTES} B, all received; at most ${result.maxInFlight} of ${BASELINE_CREDITS} credited batches in flight; ${cpuText({ ...result.cpuSeconds })}`,
    });
    measurements.push(
      ...cpuMeasurements(
        figure,
        { ...result.windowCpuSeconds },
        events,
        compareWith === undefined ? undefined : { scenario: compareWith, figure },
      ),
    );
  }
  return measurements;
}

export const baselinePipelineScenario: Scenario = {
  name: BASELINE_PIPELINE,
  description:
    "hand-written grpc-js source -> middle -> sink (3 processes), middle decodes and re-encodes, one ack per batch, credits",
  measure: (context) => measurePipeline(context, "decoding"),
};

export const forwardingPipelineScenario: Scenario = {
  name: FORWARDING_PIPELINE,
  description: "the same pipeline with a middle that forwards batch bytes without decoding (reference)",
  baselines: [BASELINE_PIPELINE],
  measure: (context) => measurePipeline(context, "forwarding", BASELINE_PIPELINE),
};
