import type { PipelineProblem } from "./pipeline-problem";
import { isRecord, type RawStage, stageName, stagePointer } from "./raw-stages";
import { BUILT_IN_STAGE_SETTINGS } from "./stage-settings-defaults";
import type { YamlNodeLocator } from "./yaml-node-locator";

const BACKOFF_GROUPS = ["retry", "restart"] as const;

/**
 * A backoff that starts above its own ceiling is a contradiction the schema cannot see, because
 * the two bounds may come from different levels (built-in, `defaults`, the stage). It is reported
 * where the offending group is written, once.
 */
export function checkBackoffBounds(
  data: unknown,
  stages: readonly RawStage[],
  locator: YamlNodeLocator,
): PipelineProblem[] {
  const problems: PipelineProblem[] = [];
  const defaults = isRecord(data) && isRecord(data.defaults) ? data.defaults : {};
  for (const group of BACKOFF_GROUPS) {
    const builtIn = BUILT_IN_STAGE_SETTINGS[group];
    const inherited = bounds(defaults[group], builtIn.initialDelayMs, builtIn.maxDelayMs);
    if (isRecord(defaults[group]) && inherited.initial > inherited.max) {
      problems.push(problem(locator, ["defaults", group], `defaults.${group}`, inherited));
    }
    for (const stage of stages) {
      const own = stage.fields[group];
      if (!isRecord(own)) continue;
      const effective = bounds(own, inherited.initial, inherited.max);
      if (effective.initial > effective.max) {
        problems.push(
          problem(locator, stagePointer(stage, group), `${stageName(stage)} ${group}`, effective),
        );
      }
    }
  }
  return problems;
}

function bounds(group: unknown, initial: number, max: number): { initial: number; max: number } {
  const fields = isRecord(group) ? group : {};
  return {
    initial: typeof fields.initialDelayMs === "number" ? fields.initialDelayMs : initial,
    max: typeof fields.maxDelayMs === "number" ? fields.maxDelayMs : max,
  };
}

function problem(
  locator: YamlNodeLocator,
  pointer: string[],
  subject: string,
  { initial, max }: { initial: number; max: number },
): PipelineProblem {
  return {
    location: locator.locate(pointer, "key").location,
    message: `${subject}: found initialDelayMs ${initial} above maxDelayMs ${max}, expected initialDelayMs <= maxDelayMs`,
    hint: "raise maxDelayMs or lower initialDelayMs (a value not written here comes from defaults or Flow's built-ins)",
  };
}
