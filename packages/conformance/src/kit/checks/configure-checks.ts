import { ConfigValidator } from "@flow/sdk/internal";
import { type CheckResult, fail, failFromError, pass, skip } from "../check-result";
import type { ConformContext } from "../conform-context";
import { validateConfig } from "../family-clients";

const SEVERITY_ERROR = 1;

/** Configure with validate_only: the valid config accepted, an invalid one refused with JSON Pointers. */
export async function configureChecks(context: ConformContext): Promise<CheckResult[]> {
  const { family, instance, config, timeoutMs, major } = context;
  const results: CheckResult[] = [];
  try {
    const answer = await validateConfig(family, instance.target, config.config, timeoutMs, major);
    const errors = answer.issues.filter((issue) => issue.severity === SEVERITY_ERROR);
    results.push(
      answer.accepted && errors.length === 0
        ? pass("configure.valid", "validate_only accepts the config of the conformance config")
        : fail(
            "configure.valid",
            `validate_only refuses ${JSON.stringify(config.config)}: ${answer.issues.map((issue) => `${issue.path || "/"} ${issue.message}`).join("; ") || "accepted=false without an issue"}`,
            `give a config the service accepts as "config" in ${config.origin} (is its external system reachable?)`,
          ),
    );
  } catch (error) {
    results.push(
      failFromError("configure.valid", error, "answer Configure (validate_only) with accepted and issues"),
    );
  }

  const schema = JSON.parse(context.component.configSchema || "{}") as Record<string, unknown>;
  const invalid = config.invalidConfig ?? invalidConfigFor(schema, config.config);
  if (invalid === undefined) {
    results.push(
      skip(
        "configure.invalid",
        `the schema refuses nothing the kit can derive: give "invalidConfig" in ${config.origin}`,
      ),
    );
    return results;
  }
  if (new ConfigValidator(schema).check(JSON.stringify(invalid)).issues.length === 0) {
    results.push(
      fail(
        "configure.invalid",
        `the declared JSON Schema accepts the invalid config ${JSON.stringify(invalid)}`,
        `give an "invalidConfig" the service's own schema refuses, in ${config.origin}`,
      ),
    );
    return results;
  }
  try {
    const answer = await validateConfig(family, instance.target, invalid, timeoutMs, major);
    const errors = answer.issues.filter((issue) => issue.severity === SEVERITY_ERROR);
    const badPaths = answer.issues.filter((issue) => issue.path !== "" && !issue.path.startsWith("/"));
    if (answer.accepted || errors.length === 0)
      results.push(
        fail(
          "configure.invalid",
          `validate_only accepts ${JSON.stringify(invalid)}, which the service's own JSON Schema refuses (Core would let it through)`,
          "check the config against the schema Describe declares, and refuse it with one SEVERITY_ERROR issue per problem",
        ),
      );
    else if (badPaths.length > 0)
      results.push(
        fail(
          "configure.invalid",
          `issue paths are not JSON Pointers: ${badPaths.map((issue) => JSON.stringify(issue.path)).join(", ")}`,
          'an issue\'s path is a JSON Pointer into the config: "" for the whole, "/field/0/name" below it',
        ),
      );
    else
      results.push(
        pass(
          "configure.invalid",
          `refused: ${errors.map((issue) => `${issue.path || "/"} ${issue.message}`).join("; ")}`,
        ),
      );
  } catch (error) {
    results.push(
      failFromError(
        "configure.invalid",
        error,
        "answer Configure (validate_only) with accepted=false and issues",
      ),
    );
  }
  return results;
}

/** A config the schema refuses, made from the valid one: an unknown property, a missing required one, or a wrong type. */
export function invalidConfigFor(schema: Record<string, unknown>, valid: unknown): unknown {
  const base =
    typeof valid === "object" && valid !== null && !Array.isArray(valid)
      ? (valid as Record<string, unknown>)
      : {};
  if (schema.additionalProperties === false) return { ...base, "flow-conform-unknown-field": true };
  const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
  if (required.length > 0) {
    const { [required[0] as string]: _dropped, ...rest } = base;
    return rest;
  }
  const properties = (schema.properties ?? {}) as Record<string, { type?: unknown }>;
  for (const [name, property] of Object.entries(properties)) {
    if (property.type === "string") return { ...base, [name]: 12345 };
    if (
      property.type === "integer" ||
      property.type === "number" ||
      property.type === "boolean" ||
      property.type === "object"
    )
      return { ...base, [name]: "flow-conform-wrong-type" };
  }
  return undefined;
}
