import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv, { type ValidateFunction } from "ajv";

/**
 * The published JSON Schema of the pipeline file (packages/core/schema/pipeline.schema.json).
 * It sits outside src/ so editors can point at it; src/config and dist/config are equally deep.
 */
export const PIPELINE_SCHEMA_PATH = join(__dirname, "..", "..", "schema", "pipeline.schema.json");

let schema: Record<string, unknown> | undefined;
let validator: ValidateFunction | undefined;

export function pipelineSchema(): Record<string, unknown> {
  schema ??= JSON.parse(readFileSync(PIPELINE_SCHEMA_PATH, "utf8")) as Record<string, unknown>;
  return schema;
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
    validator = ajv.compile(pipelineSchema());
  }
  return validator;
}
