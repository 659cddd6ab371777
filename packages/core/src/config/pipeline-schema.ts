import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv, { type ValidateFunction } from "ajv";

/**
 * The published JSON Schema of the pipeline file (packages/core/schema/pipeline.schema.json).
 * It sits outside src/ so editors can point at it; src/config and dist/config are equally deep.
 */
export const PIPELINE_SCHEMA_PATH = join(__dirname, "..", "..", "schema", "pipeline.schema.json");

/**
 * What the published schema accepts, beside a number, where a number is expected: a `${NAME}` or
 * `${NAME:-default}` reference. Editors validate the file as written, before the variables are
 * filled in, and must not flag `inFlight: ${IN_FLIGHT:-16}`.
 */
export const ENVIRONMENT_REFERENCE_PATTERN = "^\\$\\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\\}$";

let schema: Record<string, unknown> | undefined;
let validator: ValidateFunction | undefined;

/** The published schema, as editors read it. */
export function pipelineSchema(): Record<string, unknown> {
  schema ??= JSON.parse(readFileSync(PIPELINE_SCHEMA_PATH, "utf8")) as Record<string, unknown>;
  return schema;
}

/**
 * The schema Core checks a file with, once its variables are filled in: a number field takes
 * numbers only. A `${…}` string still there came from a `$${…}` escape (a literal text), so it is
 * no number; variables that failed to fill in are reported, and skipped, before this.
 */
export function interpolatedPipelineSchema(node: unknown = pipelineSchema()): unknown {
  if (Array.isArray(node)) return node.map((item) => interpolatedPipelineSchema(item));
  if (typeof node !== "object" || node === null) return node;
  const entries = Object.entries(node as Record<string, unknown>);
  const record = node as Record<string, unknown>;
  const reference = record.pattern === ENVIRONMENT_REFERENCE_PATTERN && Array.isArray(record.type);
  return Object.fromEntries(
    entries.flatMap(([key, value]): [string, unknown][] => {
      if (!reference) return [[key, interpolatedPipelineSchema(value)]];
      if (key === "pattern" || key === "patternErrorMessage") return [];
      if (key === "type") {
        const types = (value as string[]).filter((type) => type !== "string");
        return [[key, types.length === 1 ? types[0] : types]];
      }
      return [[key, value]];
    }),
  );
}

/**
 * Compiled once per process. `verbose` keeps each failing value and schema on the error, which the
 * messages need to say what was found and what was expected.
 */
export function pipelineValidator(): ValidateFunction {
  if (!validator) {
    // strictRequired is off because "exactly one locator" lists, in oneOf branches, properties the
    // stage schemas define beside it; everything else about the schema is held to strict mode.
    const ajv = new Ajv({
      allErrors: true,
      verbose: true,
      strict: true,
      strictRequired: false,
      allowUnionTypes: true,
    });
    // Editors (VS Code, yaml-language-server) show this instead of the raw regular expression; so do we.
    ajv.addVocabulary(["patternErrorMessage"]);
    validator = ajv.compile(interpolatedPipelineSchema() as Record<string, unknown>);
  }
  return validator;
}
