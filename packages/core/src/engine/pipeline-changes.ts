import { isDeepStrictEqual } from "node:util";
import type { Pipeline, PipelineStage } from "../config/pipeline-model";

/**
 * What a new version of a running pipeline's file changes, stage by stage: a stage whose
 * definition (service, config, inputs, settings) is the same is kept as it runs; one whose
 * definition changed is replaced; stages only in the old file are removed, stages only in the
 * new one added. A stage's outputs are not part of its definition: adding a consumer to a
 * source keeps the source.
 */
export interface PipelineChanges {
  kept: string[];
  replaced: string[];
  removed: string[];
  added: string[];
  /** Why the new file cannot be applied to the running pipeline (it needs a new run), if it cannot. */
  refused?: string;
}

/** Pipeline-wide settings a running pipeline cannot change: they belong to the run itself. */
const RUN_SETTINGS: { name: string; of: (pipeline: Pipeline) => unknown }[] = [
  { name: "metadata.name", of: (pipeline) => pipeline.name },
  { name: "state", of: (pipeline) => pipeline.state.url },
  { name: "delivery", of: (pipeline) => pipeline.delivery },
  { name: "directPath", of: (pipeline) => pipeline.directPath },
  { name: "deadLetters.path", of: (pipeline) => pipeline.deadLetters.path },
];

export function pipelineChanges(running: Pipeline, next: Pipeline): PipelineChanges {
  const changes: PipelineChanges = { kept: [], replaced: [], removed: [], added: [] };
  const changedSettings = RUN_SETTINGS.filter((setting) => setting.of(running) !== setting.of(next));
  if (changedSettings.length > 0) {
    changes.refused = `${changedSettings.map((setting) => setting.name).join(", ")} cannot change while the pipeline runs: stop it and run it again`;
  }
  const before = new Map(running.stages.map((stage) => [stage.id, stage]));
  const after = new Map(next.stages.map((stage) => [stage.id, stage]));
  for (const [id, stage] of before) {
    const successor = after.get(id);
    if (!successor) changes.removed.push(id);
    else if (sameDefinition(stage, successor)) changes.kept.push(id);
    else changes.replaced.push(id);
  }
  for (const id of after.keys()) if (!before.has(id)) changes.added.push(id);
  if (!changes.refused && !next.stages.some((stage) => stage.family === "source")) {
    changes.refused = "the new file has no source";
  }
  return changes;
}

/** Whether anything at all changes. */
export function changesAnything(changes: PipelineChanges): boolean {
  return changes.replaced.length + changes.removed.length + changes.added.length > 0;
}

/** How the changes read in a log line: "replaced big-orders; added audit". */
export function describeChanges(changes: PipelineChanges): string {
  const parts = (["replaced", "removed", "added"] as const)
    .filter((kind) => changes[kind].length > 0)
    .map((kind) => `${kind} ${changes[kind].join(", ")}`);
  return parts.length > 0 ? parts.join("; ") : "no stage changed";
}

function sameDefinition(a: PipelineStage, b: PipelineStage): boolean {
  return (
    a.family === b.family &&
    isDeepStrictEqual(a.locator, b.locator) &&
    isDeepStrictEqual(a.config, b.config) &&
    isDeepStrictEqual(a.inputs, b.inputs) &&
    isDeepStrictEqual(a.settings, b.settings)
  );
}
