import { ConfigValidator, type FamilyName } from "@flow/sdk/internal";
import type { ComponentDescriptor } from "../../gen/component/v1/component";
import { type CheckResult, fail, pass } from "../check-result";
import { familyOfEnum } from "../family-clients";

/**
 * What Describe at one major says: the family, that major of the family contract with its
 * version, well-formed event types, a usable JSON Schema.
 */
export function describeChecks(
  family: FamilyName,
  major: number,
  component: ComponentDescriptor,
): CheckResult[] {
  const results: CheckResult[] = [];
  const said = familyOfEnum(component.family);
  results.push(
    said === family
      ? pass("describe.family", `${family}, answering on the ${family}_service contract`)
      : fail(
          "describe.family",
          `Describe on the ${family}_service contract says family ${said ?? component.family}`,
          `set ComponentDescriptor.family to FAMILY_${family.toUpperCase()}`,
        ),
  );

  const name = `${family}_service`;
  const listed = component.contracts.find((contract) => contract.name === name && contract.major === major);
  results.push(
    listed
      ? pass("describe.contract", `${name} v${listed.major}.${listed.minor}.${listed.patch}`)
      : fail(
          "describe.contract",
          `Describe on ${name} v${major} lists ${component.contracts.map((c) => `${c.name} v${c.major}.${c.minor}.${c.patch}`).join(", ") || "no contract"}, not ${name} v${major}`,
          `list {name: "${name}", major: ${major}, minor, patch} (the version of ${name} v${major} you vendored) in the ComponentDescriptor.contracts Describe on v${major} answers`,
        ),
  );

  const badTypes = [...component.acceptedEventTypes, ...component.producedEventTypes].filter(
    (type) => type === "" || /\s/.test(type) || type.slice(0, -1).includes("*"),
  );
  results.push(
    badTypes.length === 0
      ? pass(
          "describe.event-types",
          `accepts ${component.acceptedEventTypes.join(", ") || "any"}; produces ${component.producedEventTypes.join(", ") || "unstated"}`,
        )
      : fail(
          "describe.event-types",
          `malformed event types: ${badTypes.map((type) => JSON.stringify(type)).join(", ")}`,
          'an event type is a non-empty CloudEvents type without spaces; only a trailing "*" (prefix match) is allowed',
        ),
  );

  results.push(schemaCheck(component.configSchema));
  return results;
}

function schemaCheck(text: string): CheckResult {
  const fix = "config_schema is the JSON text of a JSON Schema (draft 2020-12) for an object";
  let schema: unknown;
  try {
    schema = JSON.parse(text);
  } catch (error) {
    return fail("describe.config-schema", `config_schema is not JSON: ${(error as Error).message}`, fix);
  }
  if (typeof schema !== "object" || schema === null || Array.isArray(schema))
    return fail("describe.config-schema", "config_schema is not a JSON object", fix);
  try {
    new ConfigValidator(schema as Record<string, unknown>);
  } catch (error) {
    return fail("describe.config-schema", `config_schema does not compile: ${(error as Error).message}`, fix);
  }
  const type = (schema as { type?: unknown }).type;
  if (type !== undefined && type !== "object")
    return fail(
      "describe.config-schema",
      `config_schema describes a ${JSON.stringify(type)}, not an object`,
      fix,
    );
  return pass("describe.config-schema", "a JSON Schema that compiles");
}
