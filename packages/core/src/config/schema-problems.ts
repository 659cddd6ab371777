import type { ErrorObject } from "ajv";
import { closestMatch } from "./did-you-mean";
import { parseJsonPointer } from "./json-pointer";
import type { PipelineProblem } from "./pipeline-problem";
import { pipelineValidator } from "./pipeline-schema";
import { SERVICE_LOCATOR_FIELDS } from "./service-locator";
import type { YamlNodeLocator } from "./yaml-node-locator";

const FAMILY_OF_LIST: Record<string, string> = {
  sources: "source",
  processors: "processor",
  consumers: "consumer",
};

/**
 * Checks the interpolated data against the published JSON Schema and turns each ajv error into a
 * problem at the YAML node it is about, saying what was found and what was expected.
 * `skip` silences errors about nodes already reported (variables that could not be filled in).
 */
export function schemaProblems(
  data: unknown,
  locator: YamlNodeLocator,
  skip: (node: unknown) => boolean = () => false,
): PipelineProblem[] {
  const validate = pipelineValidator();
  if (validate(data)) return [];
  const problems: PipelineProblem[] = [];
  const seen = new Set<string>();
  for (const error of validate.errors ?? []) {
    // The only oneOf is "exactly one service locator"; its branches' `required` errors are noise
    // next to the one message written for the oneOf itself.
    if (/(^|\/)oneOf\/\d+\//.test(error.schemaPath)) continue;
    const described = describeError(error, data);
    const segments = [...parseJsonPointer(error.instancePath), ...described.under];
    if (skip(locator.nodeAt(segments))) continue;
    const { location } = locator.locate(segments, described.at);
    const problem: PipelineProblem = { location, message: described.message };
    if (described.hint) problem.hint = described.hint;
    const key = `${location.line}:${location.column}:${problem.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(problem);
  }
  return problems;
}

interface DescribedError {
  message: string;
  hint?: string;
  /** Segments below the error's instancePath that the problem is really about (a field's key). */
  under: string[];
  at: "value" | "key";
}

function describeError(error: ErrorObject, root: unknown): DescribedError {
  const segments = parseJsonPointer(error.instancePath);
  const subject = subjectOf(segments, root);
  const found = describeValue(error.data);
  const parentSchema = (error.parentSchema ?? {}) as Record<string, unknown>;
  const params = error.params as Record<string, unknown>;
  const result = (message: string, extra: Partial<DescribedError> = {}): DescribedError => ({
    message: `${subject}: ${message}`,
    under: [],
    at: "value",
    ...extra,
  });

  switch (error.keyword) {
    case "type":
      if (segments.length === 0 && (error.data === null || error.data === undefined)) {
        return result("found an empty file, expected a pipeline (apiVersion: flow/v1, kind: Pipeline, ...)", {
          hint: "start from examples/quickstart.yaml or docs/pipeline.md",
        });
      }
      if (params.type === "array" && typeof error.data === "string") {
        // `inputs: orders` is the usual slip; the fix is one pair of brackets.
        return result(`found ${found}, expected ${describeType(params.type)}`, {
          hint: `write it as a list: [${error.data}]`,
        });
      }
      return result(`found ${found}, expected ${describeType(params.type)}`);
    case "const":
      return result(`found ${found}, expected ${JSON.stringify(params.allowedValue)}`);
    case "enum":
      return result(
        `found ${found}, expected one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`,
      );
    case "pattern": {
      const expected =
        (parentSchema.patternErrorMessage as string | undefined) ?? `a string matching ${params.pattern}`;
      return result(`found ${found}, expected ${expected}`);
    }
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum":
      return result(
        `found ${found}, expected ${describeType(parentSchema.type)} ${params.comparison} ${params.limit}`,
      );
    case "minLength":
      return result(`found ${found}, expected a non-empty string`);
    case "maxLength":
      return result(
        `found a string of ${String(error.data).length} characters, expected at most ${params.limit}`,
      );
    case "minItems":
      return describeMinItems(segments, subject, error, params.limit as number);
    case "uniqueItems":
      return result(
        `found ${describeValue((error.data as unknown[])[params.i as number])} twice, expected each entry once`,
        {
          under: [String(params.i)],
          hint: "remove the repeated entry",
        },
      );
    case "required":
      return describeMissing(segments, subject, params.missingProperty as string, parentSchema);
    case "additionalProperties":
      return describeUnknownField(segments, subject, params.additionalProperty as string, parentSchema);
    case "oneOf":
      return describeLocatorChoice(subject, error.data);
    default:
      return result(`${error.message ?? "is invalid"}`);
  }
}

function describeMissing(
  segments: string[],
  subject: string,
  property: string,
  parentSchema: Record<string, unknown>,
): DescribedError {
  const family = stageFamilyAt(segments);
  if (property === "inputs" && family) {
    return {
      message: `${subject}: found no inputs, expected "inputs" naming the stages whose events the ${family} reads`,
      hint: "add e.g. inputs: [<id of a source or processor>]",
      under: [],
      at: "value",
    };
  }
  const properties = (parentSchema.properties ?? {}) as Record<string, { description?: string }>;
  const description = properties[property]?.description;
  return {
    message: `${subject}: found no "${property}", expected it to be set`,
    ...(description ? { hint: `${property}: ${description}` } : {}),
    under: [],
    at: "value",
  };
}

function describeUnknownField(
  segments: string[],
  subject: string,
  property: string,
  parentSchema: Record<string, unknown>,
): DescribedError {
  const at = { under: [property], at: "key" as const };
  if (property === "inputs" && stageFamilyAt(segments) === "source") {
    return {
      message: `${subject}: found "inputs", expected none: a source brings events in and reads from no stage`,
      hint: "remove inputs, or move this stage under processors",
      ...at,
    };
  }
  const family = stageFamilyAt(segments);
  if (property === "commitIntervalMs" && family && family !== "source") {
    return {
      message: `${subject}: found "commitIntervalMs", expected it on sources only: a ${family} commits no checkpoint, the sources its events come from do`,
      hint: "set commitIntervalMs on the sources this stage reads from, or in defaults (where it applies to every source)",
      ...at,
    };
  }
  const allowed = Object.keys((parentSchema.properties ?? {}) as object);
  const guess = closestMatch(property, allowed);
  const extension = segments.length === 0 ? ' (or an "x-" extension field)' : "";
  return {
    message: `${subject}: found unknown field "${property}", expected one of ${allowed.join(", ")}${extension}`,
    ...(guess ? { hint: `did you mean "${guess}"?` } : {}),
    ...at,
  };
}

function describeLocatorChoice(subject: string, data: unknown): DescribedError {
  const present = SERVICE_LOCATOR_FIELDS.filter(
    (field) => typeof data === "object" && data !== null && field in data,
  );
  const expected = `expected exactly one of ${SERVICE_LOCATOR_FIELDS.join(", ")}`;
  if (present.length === 0) {
    return {
      message: `${subject}: found no way to find its service, ${expected}`,
      hint: 'e.g. use: "@flow/processor-filter" (a workspace package), command: ["node", "svc.js"] or address: "localhost:50051"',
      under: [],
      at: "value",
    };
  }
  return {
    message: `${subject}: found ${present.map((field) => `"${field}"`).join(" and ")}, ${expected}`,
    hint: "keep the one that says how this stage's service is found",
    under: [present[1] as string],
    at: "key",
  };
}

function describeMinItems(
  segments: string[],
  subject: string,
  error: ErrorObject,
  limit: number,
): DescribedError {
  const items = Array.isArray(error.data) ? error.data.length : 0;
  const list = segments[segments.length - 1];
  const hint =
    segments.length === 1 && (list === "sources" || list === "consumers")
      ? `a pipeline needs at least one ${FAMILY_OF_LIST[list]}`
      : undefined;
  return {
    message: `${subject}: found ${items === 0 ? "an empty list" : `${items} entries`}, expected at least ${limit}`,
    ...(hint ? { hint } : {}),
    under: [],
    at: "value",
  };
}

/** The family of the stage a path is directly in (`/processors/2`), if it is one. */
function stageFamilyAt(segments: string[]): string | undefined {
  if (segments.length !== 2) return undefined;
  return FAMILY_OF_LIST[segments[0] as string];
}

/**
 * Names the field an error is about the way a reader finds it: `processor "big" batch.maxSize`,
 * or `processors[1]` while the stage has no usable id.
 */
function subjectOf(segments: string[], root: unknown): string {
  if (segments.length === 0) return "pipeline";
  const [list, index, ...rest] = segments;
  const family = FAMILY_OF_LIST[list as string];
  if (family && index !== undefined) {
    const stage = (root as Record<string, unknown[]>)[list as string]?.[Number(index)];
    const id = (stage as { id?: unknown } | undefined)?.id;
    const head = typeof id === "string" && id !== "" ? `${family} "${id}"` : `${list}[${index}]`;
    return rest.length === 0 ? head : `${head} ${dotted(rest)}`;
  }
  return dotted(segments);
}

function dotted(segments: string[]): string {
  return segments.reduce(
    (path, segment) =>
      /^\d+$/.test(segment) ? `${path}[${segment}]` : path ? `${path}.${segment}` : segment,
    "",
  );
}

export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return "nothing (null)";
  if (Array.isArray(value)) return value.length === 0 ? "an empty list" : "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") {
    const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return value === "" ? "an empty string" : JSON.stringify(shown);
  }
  return String(value);
}

function describeType(type: unknown): string {
  const names: Record<string, string> = {
    integer: "an integer",
    number: "a number",
    string: "a string",
    boolean: "true or false",
    object: "a mapping (key: value)",
    array: "a list",
    null: "nothing",
  };
  const types = Array.isArray(type) ? type : [type];
  return types.map((t) => names[String(t)] ?? String(t)).join(" or ");
}
