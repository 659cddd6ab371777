import { FAMILY_NAMES, type FamilyName } from "@flow/sdk/internal";
import { CORE_CONTRACTS, describeMajors } from "../clients/family-contracts";
import type { StageSettings } from "./pipeline-model";
import type { PipelineProblem } from "./pipeline-problem";
import { isRecord, type RawStage, stageName, stagePointer } from "./raw-stages";
import type { YamlNodeLocator } from "./yaml-node-locator";

const HINT =
  "leave contractMajor out to let Core and the service agree on the highest major both speak; `npx flow --version` lists the majors this core speaks";

/**
 * A `contractMajor` pin must name a major Core speaks with the stage's family (in `defaults`:
 * with every family, since every stage may inherit it). Whether the service serves it is for
 * negotiation to find out.
 */
export function checkContractMajors(
  data: unknown,
  stages: readonly RawStage[],
  locator: YamlNodeLocator,
): PipelineProblem[] {
  const problems: PipelineProblem[] = [];
  const defaults = isRecord(data) && isRecord(data.defaults) ? data.defaults.contractMajor : undefined;
  if (isMajor(defaults)) {
    const unspoken = FAMILY_NAMES.filter((family) => !CORE_CONTRACTS[family].majors.includes(defaults));
    if (unspoken.length > 0) {
      problems.push({
        location: locator.locate(["defaults", "contractMajor"]).location,
        message: `defaults.contractMajor: found ${defaults}, expected a major this core speaks with every family (${unspoken.map((family) => describeMajors(family)).join("; ")})`,
        hint: HINT,
      });
    }
  }
  for (const stage of stages) {
    const major = stage.fields.contractMajor;
    if (!isMajor(major)) continue;
    if (CORE_CONTRACTS[stage.family].majors.includes(major)) continue;
    problems.push({
      location: locator.locate(stagePointer(stage, "contractMajor")).location,
      message: `${stageName(stage)} contractMajor: found ${major}, expected a major this core speaks with ${stage.family}s (${describeMajors(stage.family)})`,
      hint: HINT,
    });
  }
  return problems;
}

/** A whole number the schema accepts (what it refuses, it reports itself). */
function isMajor(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 1;
}

/**
 * Settings without a pin Core cannot speak (a stage `flow validate` salvages from a file with
 * problems, the pin among them, still gets its service asked, at the majors Core does speak).
 */
export function withoutUnspokenMajor(family: FamilyName, settings: StageSettings): StageSettings {
  const { contractMajor, ...rest } = settings;
  return contractMajor === undefined || CORE_CONTRACTS[family].majors.includes(contractMajor)
    ? settings
    : rest;
}
