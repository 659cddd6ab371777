import Ajv, { type ErrorObject, type Options, type ValidateFunction } from "ajv";
import Ajv2019 from "ajv/dist/2019";
import Ajv2020 from "ajv/dist/2020";
import type AjvCore from "ajv/dist/core";
import addFormats from "ajv-formats";
import { type ConfigIssue, errorIssue } from "./component";

export type JsonSchema = Record<string, unknown>;

/**
 * Checks a stage configuration against the service's own JSON Schema and says every problem,
 * each at its JSON Pointer, in words a pipeline author can act on. Defaults from the schema are
 * applied to the returned value.
 */
export class ConfigValidator<Config> {
  private readonly validate: ValidateFunction;

  constructor(readonly schema: JsonSchema) {
    const ajv = ajvFor(schema.$schema, { allErrors: true, useDefaults: true, strict: false });
    addFormats(ajv);
    this.validate = ajv.compile(schema);
  }

  /** Parses and validates `json`; returns the config (with defaults) or every issue found. */
  check(json: string): { config?: Config; issues: ConfigIssue[] } {
    let value: unknown;
    try {
      value = json.trim() === "" ? {} : JSON.parse(json);
    } catch (error) {
      return { issues: [errorIssue("", `configuration is not valid JSON: ${(error as Error).message}`)] };
    }
    if (this.validate(value)) return { config: value as Config, issues: [] };
    return { issues: (this.validate.errors ?? []).map(describeError) };
  }
}

/**
 * The component contract says config schemas are draft 2020-12, which the default Ajv class
 * (draft-07) refuses to compile; draft-07 and 2019-09 still work when a schema names them.
 */
function ajvFor(draft: unknown, options: Options): AjvCore {
  const uri = typeof draft === "string" ? draft : "";
  if (uri.includes("draft-07")) return new Ajv(options);
  if (uri.includes("2019-09")) return new Ajv2019(options);
  return new Ajv2020(options);
}

/** A property name as one JSON Pointer segment (RFC 6901: "~" and "/" are escaped). */
function pointerSegment(name: unknown): string {
  return String(name).replace(/~/g, "~0").replace(/\//g, "~1");
}

function describeError(error: ErrorObject): ConfigIssue {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "required":
      return errorIssue(
        `${error.instancePath}/${pointerSegment(params.missingProperty)}`,
        `required property "${params.missingProperty}" is missing`,
      );
    case "additionalProperties":
      return errorIssue(
        `${error.instancePath}/${pointerSegment(params.additionalProperty)}`,
        `unknown property "${params.additionalProperty}" (check its spelling against the service's schema)`,
      );
    case "enum":
      return errorIssue(
        error.instancePath,
        `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`,
      );
    default:
      return errorIssue(error.instancePath, error.message ?? `fails ${error.keyword}`);
  }
}
