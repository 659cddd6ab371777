import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";
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
    const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
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

function describeError(error: ErrorObject): ConfigIssue {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "required":
      return errorIssue(`${error.instancePath}/${params.missingProperty}`, `required property "${params.missingProperty}" is missing`);
    case "additionalProperties":
      return errorIssue(
        `${error.instancePath}/${params.additionalProperty}`,
        `unknown property "${params.additionalProperty}" (check its spelling against the service's schema)`,
      );
    case "enum":
      return errorIssue(error.instancePath, `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`);
    default:
      return errorIssue(error.instancePath, error.message ?? `fails ${error.keyword}`);
  }
}
