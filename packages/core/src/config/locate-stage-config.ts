import type { UserError } from "@flow/errors";
import { parseJsonPointer } from "./json-pointer";
import { getStage, type Pipeline } from "./pipeline-model";
import { type PipelineProblem, problemToUserError } from "./pipeline-problem";
import type { SourceLocation } from "./source-location";
import type { YamlNodeLocator } from "./yaml-node-locator";

interface PipelineSource {
  locator: YamlNodeLocator;
  /** Each stage's path in the parsed file, e.g. ["processors", "0"]. */
  stagePointers: Map<string, string[]>;
}

// Kept beside the model rather than in it, so a Pipeline stays plain data (printable as JSON).
const pipelineSources = new WeakMap<Pipeline, PipelineSource>();

export function rememberPipelineSource(pipeline: Pipeline, source: PipelineSource): void {
  pipelineSources.set(pipeline, source);
}

/**
 * Where a stage's config value is written: `locateStageConfig(pipeline, "db", "/columns/2")` is
 * the file:line:col of the third entry of `columns` under the stage's `config`. A pointer deeper
 * than the file (a missing property a service asks for) gives the deepest part that exists; a
 * pipeline not made by loadPipeline (a copy) gives the stage's own location.
 */
export function locateStageConfig(pipeline: Pipeline, stageId: string, pointer: string): SourceLocation {
  const stage = getStage(pipeline, stageId);
  if (!stage) throw new Error(`pipeline "${pipeline.name}" has no stage "${stageId}"`);
  const source = pipelineSources.get(pipeline);
  const base = source?.stagePointers.get(stageId);
  if (!source || !base) return stage.location;
  let segments: string[];
  try {
    segments = parseJsonPointer(pointer);
  } catch {
    // A service that reports something other than a JSON Pointer still gets its config pointed at.
    segments = [];
  }
  return source.locator.locate([...base, "config", ...segments]).location;
}

/**
 * Where a top-level setting is written, e.g. `["deadLetters", "path"]`, for problems found when the
 * setting is used (a folder that cannot be written, a store that cannot be reached). A setting left
 * out (its default applies) gives the deepest part that is written, at worst the file's start.
 */
export function locatePipelineField(pipeline: Pipeline, pointer: readonly string[]): SourceLocation {
  const source = pipelineSources.get(pipeline);
  if (!source) return { file: pipeline.file, line: 1, column: 1 };
  return source.locator.locate(pointer).location;
}

/**
 * A problem a service reported about its config (in validate-only mode or on apply), placed in the
 * pipeline file: `pipeline.yaml:31:7: consumer "db" config /columns/2: <message>`.
 */
export function stageConfigProblem(
  pipeline: Pipeline,
  stageId: string,
  pointer: string,
  message: string,
  hint?: string,
): PipelineProblem {
  const stage = getStage(pipeline, stageId);
  const subject = `${stage?.family ?? "stage"} "${stageId}" config${pointer && pointer !== "/" ? ` ${pointer}` : ""}`;
  return {
    location: locateStageConfig(pipeline, stageId, pointer),
    message: `${subject}: ${message}`,
    ...(hint ? { hint } : {}),
  };
}

export function stageConfigError(
  pipeline: Pipeline,
  stageId: string,
  pointer: string,
  message: string,
  hint?: string,
): UserError {
  return problemToUserError(stageConfigProblem(pipeline, stageId, pointer, message, hint));
}
