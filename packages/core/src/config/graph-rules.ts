import { closestMatch } from "./did-you-mean";
import type { PipelineProblem } from "./pipeline-problem";
import { type RawStage, stageName, stagePointer } from "./raw-stages";
import { formatLocation } from "./source-location";
import { findCycles, outputsById, type StageNode } from "./stage-graph";
import type { YamlNodeLocator } from "./yaml-node-locator";

export interface GraphRuleResult {
  errors: PipelineProblem[];
  warnings: PipelineProblem[];
}

/**
 * The rules that need the whole pipeline: ids are unique across all stages, every input names a
 * source or processor, the edges form a DAG, and (a warning) every source and processor is read.
 */
export function checkStageGraph(stages: readonly RawStage[], locator: YamlNodeLocator): GraphRuleResult {
  const errors: PipelineProblem[] = [];
  const warnings: PipelineProblem[] = [];
  const at = (stage: RawStage, ...below: (string | number)[]) =>
    locator.locate(stagePointer(stage, ...below)).location;

  const byId = new Map<string, RawStage>();
  for (const stage of stages) {
    if (stage.id === undefined) continue;
    const first = byId.get(stage.id);
    if (!first) {
      byId.set(stage.id, stage);
      continue;
    }
    errors.push({
      location: at(stage, "id"),
      message: `found id "${stage.id}" a second time (first at ${formatLocation(at(first, "id"))}), expected ids unique across sources, processors and consumers`,
      hint: "rename one of the two stages (and the inputs that mean it)",
    });
  }

  const readable = [...byId.values()]
    .filter((stage) => stage.family !== "consumer")
    .map((stage) => stage.id as string);
  const nodes: StageNode[] = [];
  for (const stage of byId.values()) {
    const inputs: string[] = [];
    // A source's inputs are already reported by the schema; they make no edges.
    for (const input of stage.family === "source" ? [] : stage.inputs) {
      const target = byId.get(input.id);
      if (!target) {
        const guess = closestMatch(input.id, readable);
        errors.push({
          location: at(stage, "inputs", input.index),
          message: `${stageName(stage)} reads from "${input.id}", which is no stage; expected the id of a source or processor${readable.length > 0 ? ` (${readable.join(", ")})` : ""}`,
          hint: guess ? `did you mean "${guess}"?` : "declare that stage, or fix the id",
        });
      } else if (target.family === "consumer") {
        errors.push({
          location: at(stage, "inputs", input.index),
          message: `${stageName(stage)} reads from consumer "${input.id}", expected a source or processor: consumers emit no events`,
          hint: "read from the stage that feeds that consumer instead",
        });
      } else inputs.push(input.id);
    }
    nodes.push({ id: stage.id as string, family: stage.family, inputs });
  }

  for (const cycle of findCycles(nodes)) {
    const start = byId.get(cycle[0] as string) as RawStage;
    const closing = cycle[cycle.length - 1] as string;
    const entry = start.inputs.find((input) => input.id === closing);
    const path = [...cycle, cycle[0]].join(" -> ");
    errors.push({
      location: entry ? at(start, "inputs", entry.index) : at(start, "id"),
      message:
        cycle.length === 1
          ? `${stageName(start)} reads its own output (cycle ${path}), expected inputs to form a DAG`
          : `found the cycle ${path}, expected inputs to form a DAG (no stage may read its own output)`,
      hint: "remove one of the inputs along the cycle",
    });
  }

  const outputs = outputsById(nodes);
  for (const stage of byId.values()) {
    if (stage.family === "consumer" || (outputs.get(stage.id as string) ?? []).length > 0) continue;
    warnings.push({
      location: at(stage, "id"),
      message: `nothing reads the events of ${stageName(stage)}; expected it in the inputs of a processor or consumer`,
      hint: `add "${stage.id}" to some stage's inputs, or remove this ${stage.family}`,
    });
  }
  return { errors, warnings };
}
