import type { FamilyName } from "@flow/sdk/internal";

export const STAGE_LISTS = [
  { list: "sources", family: "source" },
  { list: "processors", family: "processor" },
  { list: "consumers", family: "consumer" },
] as const satisfies readonly { list: string; family: FamilyName }[];

export type StageList = (typeof STAGE_LISTS)[number]["list"];

/**
 * A stage as written, read defensively: the rules about ids and inputs still run when the schema
 * found other mistakes, so one pass reports everything. Anything of the wrong type is left out.
 */
export interface RawStage {
  family: FamilyName;
  list: StageList;
  index: number;
  id?: string;
  fields: Record<string, unknown>;
  /** Inputs that are strings, with their position in the list. */
  inputs: { id: string; index: number }[];
}

export function readRawStages(data: unknown): RawStage[] {
  const stages: RawStage[] = [];
  if (!isRecord(data)) return stages;
  for (const { list, family } of STAGE_LISTS) {
    const items = data[list];
    if (!Array.isArray(items)) continue;
    items.forEach((item, index) => {
      if (!isRecord(item)) return;
      const inputs = Array.isArray(item.inputs)
        ? item.inputs.flatMap((input, inputIndex) =>
            typeof input === "string" ? [{ id: input, index: inputIndex }] : [],
          )
        : [];
      const stage: RawStage = { family, list, index, fields: item, inputs };
      if (typeof item.id === "string" && item.id !== "") stage.id = item.id;
      stages.push(stage);
    });
  }
  return stages;
}

export function stagePointer(stage: RawStage, ...below: (string | number)[]): string[] {
  return [stage.list, String(stage.index), ...below.map(String)];
}

export function stageName(stage: RawStage): string {
  return stage.id === undefined ? `${stage.list}[${stage.index}]` : `${stage.family} "${stage.id}"`;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
