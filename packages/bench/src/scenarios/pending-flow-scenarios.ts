import type { Scenario } from "../scenario";
import { BASELINE_PIPELINE, PIPELINE_BATCH_SIZES, pipelineFigure } from "./baseline-pipeline-scenarios";

// PENDING SLOTS: the scenarios that measure Flow itself. They are registered so that --list, the
// table and the JSON show them, with the figures and ratios they will report, but they print
// "pending: needs flow run" until Flow Core and `flow run` exist. To wire one: drop `pending`, add
// `measure` (spawn `flow run` through ChildProcessGroup, like pipeline/baseline-pipeline-run.ts) and
// keep the figure names below, so ratios against the baseline line up.

const NEEDS_FLOW_RUN = "needs flow run";

export const flowThroughputScenario: Scenario = {
  name: "flow-throughput",
  description:
    "generator -> identity processor -> counting consumer under `flow run`, acks and checkpoints on (target: >= 1.5x baseline at batch >= 100)",
  baselines: [BASELINE_PIPELINE],
  pending: NEEDS_FLOW_RUN,
  plannedFigures: PIPELINE_BATCH_SIZES.map((batchSize) => ({
    figure: pipelineFigure(batchSize),
    unit: "events/s",
    ratioVs: { scenario: BASELINE_PIPELINE, figure: pipelineFigure(batchSize) },
  })),
};

export const flowAckCostScenario: Scenario = {
  name: "flow-ack-cost",
  description:
    "the Flow pipeline with acknowledgements and checkpoints off versus on (target: on costs <= 10%)",
  pending: NEEDS_FLOW_RUN,
  plannedFigures: [
    { figure: "acks+checkpoints off batch=100", unit: "events/s" },
    {
      figure: "acks+checkpoints on batch=100",
      unit: "events/s",
      ratioVs: { scenario: "flow-ack-cost", figure: "acks+checkpoints off batch=100" },
    },
  ],
};

export const flowLatencyScenario: Scenario = {
  name: "flow-latency",
  description: "end-to-end latency at a fixed 10,000 events/s, default linger (target: p99 <= 10 ms)",
  pending: NEEDS_FLOW_RUN,
  plannedFigures: [
    { figure: "p50 at 10k events/s", unit: "ms" },
    { figure: "p99 at 10k events/s", unit: "ms" },
    { figure: "p99.9 at 10k events/s", unit: "ms" },
  ],
};

export const flowStalledConsumerScenario: Scenario = {
  name: "flow-stalled-consumer",
  description:
    "consumer stops for 30 s while the source pushes: peak RSS, events in flight, events lost (target: core RSS <= 200 MB, 0 lost)",
  skipInQuick: true,
  pending: NEEDS_FLOW_RUN,
  plannedFigures: [
    { figure: "core peak RSS", unit: "MB" },
    { figure: "source peak RSS", unit: "MB" },
    { figure: "processor peak RSS", unit: "MB" },
    { figure: "consumer peak RSS", unit: "MB" },
    { figure: "max events in flight", unit: "events" },
    { figure: "events lost", unit: "events" },
  ],
};

export const flowStartupScenario: Scenario = {
  name: "flow-startup",
  description: "from `flow run` to the first event in the sink, three spawned services (target: <= 2 s)",
  pending: NEEDS_FLOW_RUN,
  plannedFigures: [{ figure: "flow run to first event", unit: "s" }],
};

export const pendingFlowScenarios: readonly Scenario[] = [
  flowThroughputScenario,
  flowAckCostScenario,
  flowLatencyScenario,
  flowStalledConsumerScenario,
  flowStartupScenario,
];
