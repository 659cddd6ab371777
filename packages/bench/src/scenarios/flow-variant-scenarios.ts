import { PAYLOAD_BYTES } from "../codec/synthetic-events";
import {
  type FlowPipelineResult,
  type FlowPipelineSettings,
  runFlowPipeline,
} from "../flow/flow-pipeline-run";
import type { Measurement, Scenario } from "../scenario";
import { cpuText, pipelineBatchSizes, pipelineFigure } from "./baseline-pipeline-scenarios";
import { flowSettings, runFigures } from "./flow-scenarios";

// Scenarios that run the flow-throughput pipeline two ways, one after the other for each batch
// size in every run, and give the first way's figures with their ratio to the second's.

/** One way to run the pipeline: the figure-name prefix, what it is, and its settings. */
interface Variant {
  name: string;
  how: string;
  settings: Partial<FlowPipelineSettings>;
  /** Throws when the run did not go the way the variant says (it would compare nothing). */
  check?(run: string, result: FlowPipelineResult): void;
}

function variantScenario(
  name: string,
  description: string,
  variants: readonly [measured: Variant, reference: Variant],
): Scenario {
  const [measured, reference] = variants;
  return {
    name,
    description,
    async measure(context) {
      const measurements: Measurement[] = [];
      for (const batchSize of pipelineBatchSizes(context)) {
        // Which one runs first alternates from run to run, so neither always meets the warmer machine.
        const order = context.runIndex % 2 === 0 ? variants : [...variants].reverse();
        const results = new Map<Variant, FlowPipelineResult>();
        for (const variant of order)
          results.set(
            variant,
            await runFlowPipeline(flowSettings(context, { batchSize, ...variant.settings })),
          );
        for (const variant of variants) {
          const result = results.get(variant) as FlowPipelineResult;
          const figure = `${variant.name} ${pipelineFigure(batchSize)}`;
          variant.check?.(figure, result);
          const versus =
            variant === measured
              ? { scenario: name, figure: `${reference.name} ${pipelineFigure(batchSize)}` }
              : undefined;
          measurements.push(
            ...runFigures(context, figure, result, {
              events: versus,
              cpu: versus,
              detail: `${result.report.events.toLocaleString("en-US")} events of ${PAYLOAD_BYTES} B, all received; ${variant.how}; ${cpuText({ ...result.cpuSeconds })}`,
            }),
          );
        }
      }
      return measurements;
    },
  };
}

/** A variant whose run must have made exactly `edges` direct, as Core's log says. */
function directEdges(how: string, edges: readonly string[]): Variant["check"] {
  return (run, result) => {
    if (result.directEdges === undefined)
      throw new Error(`${run}: Core's log has no "direct data path" line saying which edges went direct`);
    const sorted = [...result.directEdges].sort();
    if (JSON.stringify(sorted) !== JSON.stringify(edges))
      throw new Error(
        `${run}: Core made ${JSON.stringify(sorted)} direct, expected ${JSON.stringify(edges)} (${how})`,
      );
  };
}

const DIRECT_HOW = "FLOW_DIRECT_PATH unset: the direct data path, Core's default";
const THROUGH_CORE_HOW = "FLOW_DIRECT_PATH=off: every batch through Core";

export const flowDirectPathScenario = variantScenario(
  "flow-direct-path",
  "the flow-throughput pipeline with the direct data path (stages send batches to each other, Core keeps the control path) and with FLOW_DIRECT_PATH=off (every batch through Core), one after the other for each batch size in every run; direct with its ratio to through Core",
  [
    {
      name: "direct",
      how: DIRECT_HOW,
      settings: { directPath: "on" },
      check: directEdges(DIRECT_HOW, ["gen -> identity", "identity -> count"]),
    },
    {
      name: "through Core",
      how: THROUGH_CORE_HOW,
      settings: { directPath: "off" },
      check: directEdges(THROUGH_CORE_HOW, []),
    },
  ],
);

export const flowStreamBundlesScenario = variantScenario(
  "flow-stream-bundles",
  "the flow-throughput pipeline with bundles on its data streams (what one event-loop turn writes goes as one message, Core's default) and with FLOW_STREAM_BUNDLES=off (one message each), one after the other for each batch size in every run; bundles with their ratio to one message each",
  [
    {
      name: "bundles",
      how: "FLOW_STREAM_BUNDLES unset: a turn's messages as one, Core's default",
      settings: { streamBundles: "on" },
    },
    {
      name: "one message each",
      how: "FLOW_STREAM_BUNDLES=off: every stream message alone",
      settings: { streamBundles: "off" },
    },
  ],
);

export const flowVariantScenarios: readonly Scenario[] = [flowDirectPathScenario, flowStreamBundlesScenario];
