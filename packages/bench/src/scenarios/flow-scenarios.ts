import { PAYLOAD_BYTES } from "../codec/synthetic-events";
import {
  type FlowPipelineResult,
  type FlowPipelineSettings,
  runFlowPipeline,
} from "../flow/flow-pipeline-run";
import { cpuMeasurements } from "../report/cpu-figures";
import type { FigureRef, Measurement, Scenario, ScenarioContext } from "../scenario";
import {
  BASELINE_CREDITS,
  BASELINE_PIPELINE,
  cpuText,
  FORWARDING_PIPELINE,
  pipelineBatchSizes,
  pipelineEvents,
  pipelineFigure,
} from "./baseline-pipeline-scenarios";

// The scenarios that measure Flow itself: every service a separate process started by `flow run`,
// exactly as a user runs a pipeline. Throughput figures use the same names as the baseline's, so
// the harness puts the ratio beside them.

const MB = 1024 * 1024;
/** The first second of the latency run is reported apart: start-up work in four fresh processes. */
const LATENCY_WARMUP_MS = 1000;

export function flowSettings(
  context: ScenarioContext,
  overrides: Partial<FlowPipelineSettings>,
): FlowPipelineSettings {
  return {
    events: pipelineEvents(context),
    batchSize: 100,
    // The same credits as the baseline: the comparison is of the frameworks, not of the windows.
    inFlight: BASELINE_CREDITS,
    payloadBytes: PAYLOAD_BYTES,
    delivery: "at-least-once",
    ...overrides,
  };
}

export const flowThroughputScenario: Scenario = {
  name: "flow-throughput",
  description:
    "generator -> identity processor -> counting consumer under `flow run`, acks and checkpoints on (target: >= 1.5x baseline at batch >= 100); CPU per 1M events against the forwarding chain",
  baselines: [BASELINE_PIPELINE, FORWARDING_PIPELINE],
  async measure(context) {
    const measurements: Measurement[] = [];
    for (const batchSize of pipelineBatchSizes(context)) {
      const result = await runFlowPipeline(flowSettings(context, { batchSize }));
      const figure = pipelineFigure(batchSize);
      measurements.push(
        ...runFigures(context, figure, result, {
          events: { scenario: BASELINE_PIPELINE, figure },
          cpu: { scenario: FORWARDING_PIPELINE, figure },
          detail: `${result.report.events.toLocaleString("en-US")} events of ${PAYLOAD_BYTES} B, all received; at most ${result.run.stages.find((s) => s.stageId === "gen")?.peakInFlight} of ${BASELINE_CREDITS} credited batches in flight; ${cpuText({ ...result.cpuSeconds })}`,
        }),
      );
    }
    return measurements;
  },
};

/** A run's throughput figure and its CPU figures, each with the figure it is compared with. */
export function runFigures(
  context: ScenarioContext,
  figure: string,
  result: FlowPipelineResult,
  compared: { events?: FigureRef; cpu?: FigureRef; detail: string },
): Measurement[] {
  context.log(`${figure}: ${Math.round(result.eventsPerSecond).toLocaleString("en-US")} events/s`);
  return [
    {
      figure,
      unit: "events/s",
      value: result.eventsPerSecond,
      ...(compared.events ? { ratioVs: compared.events } : {}),
      detail: compared.detail,
    },
    ...cpuMeasurements(figure, { ...result.windowCpuSeconds }, result.report.events, compared.cpu),
  ];
}

export const flowSpawnNetworkScenario: Scenario = {
  name: "flow-spawn-network",
  description:
    "the flow-throughput pipeline with Core's services on loopback TCP and on Unix domain sockets (FLOW_SPAWN_NETWORK), alternating in each run",
  async measure(context) {
    const measurements: Measurement[] = [];
    for (const batchSize of pipelineBatchSizes(context)) {
      for (const network of ["tcp", "unix"] as const) {
        const result = await runFlowPipeline(flowSettings(context, { batchSize, spawnNetwork: network }));
        const versus =
          network === "unix"
            ? { scenario: "flow-spawn-network", figure: `tcp ${pipelineFigure(batchSize)}` }
            : undefined;
        measurements.push(
          ...runFigures(context, `${network} ${pipelineFigure(batchSize)}`, result, {
            events: versus,
            cpu: versus,
            detail: cpuText({ ...result.cpuSeconds }),
          }),
        );
      }
    }
    return measurements;
  },
};

export const flowAckCostScenario: Scenario = {
  name: "flow-ack-cost",
  description:
    "the Flow pipeline with acknowledgements and checkpoints off (delivery: at-most-once) versus on (target: on costs <= 10%)",
  async measure(context) {
    const off = await runFlowPipeline(flowSettings(context, { delivery: "at-most-once" }));
    const on = await runFlowPipeline(flowSettings(context, { delivery: "at-least-once" }));
    context.log(
      `off ${Math.round(off.eventsPerSecond)} events/s, on ${Math.round(on.eventsPerSecond)} events/s`,
    );
    return [
      { figure: "acks+checkpoints off batch=100", unit: "events/s", value: off.eventsPerSecond },
      {
        figure: "acks+checkpoints on batch=100",
        unit: "events/s",
        value: on.eventsPerSecond,
        ratioVs: { scenario: "flow-ack-cost", figure: "acks+checkpoints off batch=100" },
      },
    ];
  },
};

export const flowLatencyScenario: Scenario = {
  name: "flow-latency",
  description:
    "end-to-end latency (event made at the source -> written by the consumer) at 10,000 events/s offered, default linger (target: p99 <= 10 ms)",
  async measure(context) {
    const events = context.quick ? 5_000 : 110_000;
    const warmupMs = context.quick ? 100 : LATENCY_WARMUP_MS;
    const result = await runFlowPipeline(
      flowSettings(context, { events, rate: 10_000, latencyWarmupMs: warmupMs }),
    );
    const { p50, p99, p999, samples } = result.report.latency;
    const warm = result.report.latencyWarmup;
    const detail = `${samples.toLocaleString("en-US")} events after a ${warmupMs} ms warm-up, every one measured; default batch maxSize and lingerMs`;
    context.log(`p50 ${p50} ms, p99 ${p99} ms, p99.9 ${p999} ms; warm-up p99 ${warm.p99} ms`);
    return [
      { figure: "p50 at 10k events/s", unit: "ms", value: p50, detail },
      { figure: "p99 at 10k events/s", unit: "ms", value: p99 },
      { figure: "p99.9 at 10k events/s", unit: "ms", value: p999 },
      {
        figure: "p99 during warm-up",
        unit: "ms",
        value: warm.p99,
        detail: `${warm.samples.toLocaleString("en-US")} events in the first ${warmupMs} ms (fresh processes: start-up GC, JIT)`,
      },
    ];
  },
};

export const flowStalledConsumerScenario: Scenario = {
  name: "flow-stalled-consumer",
  description:
    "the consumer stops for 30 s while the source pushes as fast as it can: peak RSS, events in flight, events lost (target: core RSS <= 200 MB, 0 lost)",
  skipInQuick: true,
  async measure(context) {
    const events = pipelineEvents(context);
    const batchSize = 100;
    const inFlight = 8;
    const result = await runFlowPipeline(
      flowSettings(context, { events, batchSize, inFlight, stall: { afterBatches: 20, ms: 30_000 } }),
    );
    const peakInFlight =
      result.run.stages.find((stage) => stage.stageId === "gen")?.peakInFlight ?? Number.NaN;
    const detail = `consumer held for 30 s after 20 batches; ${inFlight} credits of ${batchSize} events`;
    return [
      { figure: "core peak RSS", unit: "MB", value: result.peakRss.core / MB, detail },
      { figure: "source peak RSS", unit: "MB", value: result.peakRss.source / MB },
      { figure: "processor peak RSS", unit: "MB", value: result.peakRss.processor / MB },
      { figure: "consumer peak RSS", unit: "MB", value: result.peakRss.consumer / MB },
      {
        figure: "max events in flight",
        unit: "events",
        value: peakInFlight * batchSize,
        detail: `at most ${peakInFlight} of ${inFlight} batches`,
      },
      { figure: "events lost", unit: "events", value: events - result.report.events },
    ];
  },
};

export const flowStartupScenario: Scenario = {
  name: "flow-startup",
  description: "from `flow run` to the first event in the sink, three spawned services (target: <= 2 s)",
  async measure(context) {
    const result = await runFlowPipeline(flowSettings(context, { events: 1_000 }));
    return [{ figure: "flow run to first event", unit: "s", value: result.startupSeconds }];
  },
};

export const flowScenarios: readonly Scenario[] = [
  flowThroughputScenario,
  flowSpawnNetworkScenario,
  flowAckCostScenario,
  flowLatencyScenario,
  flowStalledConsumerScenario,
  flowStartupScenario,
];
