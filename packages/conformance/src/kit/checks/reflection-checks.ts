import type { FamilyName } from "@flow/sdk/internal";
import type { ComponentDescriptor } from "../../gen/component/v1/component";
import { bufCurl } from "../buf-curl";
import { type CheckResult, fail, pass } from "../check-result";
import { FAMILY_SERVICE } from "../family-clients";

const FIX =
  "serve grpc.reflection.v1 with the descriptors protoc builds from the vendored protos (the SDK does; in Python, grpcio-reflection with the generated DESCRIPTOR)";

/** Server reflection as the ecosystem's tools use it: `buf curl` lists the services, then describes and calls Describe from reflection alone. */
export async function reflectionChecks(
  family: FamilyName,
  target: string,
  component: ComponentDescriptor,
): Promise<CheckResult[]> {
  const service = FAMILY_SERVICE[family];
  const listed = await bufCurl(target, ["--list-services"]);
  if (!listed.ok)
    return [fail("reflection.list", `buf curl --list-services failed: ${lastLine(listed.stderr)}`, FIX)];
  const services = listed.stdout.split("\n").filter((line) => line !== "");
  const missing = [service, "grpc.health.v1.Health"].filter((name) => !services.includes(name));
  const results = [
    missing.length === 0
      ? pass("reflection.list", `lists ${services.join(", ")}`)
      : fail(
          "reflection.list",
          `reflection does not list ${missing.join(", ")} (lists: ${services.join(", ")})`,
          FIX,
        ),
  ];
  const called = await bufCurl(target, ["-d", "{}"], `${service}/Describe`);
  if (!called.ok) {
    results.push(
      fail(
        "reflection.call",
        `buf curl cannot call ${service}/Describe from reflection: ${lastLine(called.stderr)}`,
        `${FIX}; protoc-based tools refuse descriptors protoc would not build (e.g. a map entry not named <Field>Entry)`,
      ),
    );
    return results;
  }
  let name: unknown;
  try {
    name = (JSON.parse(called.stdout) as { component?: { name?: unknown } }).component?.name;
  } catch {
    name = undefined;
  }
  results.push(
    name === component.name
      ? pass("reflection.call", `buf curl describes and calls ${service}/Describe through reflection alone`)
      : fail(
          "reflection.call",
          `buf curl's Describe answer names ${JSON.stringify(name)}, not ${component.name}`,
          FIX,
        ),
  );
  return results;
}

function lastLine(text: string): string {
  return text.trim().split("\n").at(-1) ?? "";
}
