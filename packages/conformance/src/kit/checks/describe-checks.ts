import { CORE_CONTRACTS } from "@flow/core";
import { ConfigValidator, type FamilyName } from "@flow/sdk/internal";
import type { ComponentDescriptor } from "../../gen/component/v1/component";
import { type CheckResult, fail, pass } from "../check-result";
import { familyOfEnum } from "../family-clients";

/** What Describe says: a family, a contract major Core speaks, well-formed event types, a usable JSON Schema. */
export function describeChecks(family: FamilyName, component: ComponentDescriptor): CheckResult[] {
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

  const core = CORE_CONTRACTS[family];
  const spoken = component.contracts.filter((contract) => contract.name === core.name);
  results.push(
    spoken.some((contract) => core.majors.includes(contract.major))
      ? pass(
          "describe.contract",
          `${core.name} v${spoken.map((c) => `${c.major}.${c.minor}.${c.patch}`).join(", v")}`,
        )
      : fail(
          "describe.contract",
          spoken.length === 0
            ? `Describe lists no ${core.name} contract (lists: ${component.contracts.map((c) => c.name).join(", ") || "none"})`
            : `${core.name} major ${spoken.map((c) => c.major).join(", ")} is not one Core speaks (${core.majors.join(", ")})`,
          `list {name: "${core.name}", major: ${core.majors.at(-1)}, minor, patch} in ComponentDescriptor.contracts`,
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
