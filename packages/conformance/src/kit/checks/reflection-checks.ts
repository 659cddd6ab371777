import type { FamilyName } from "@flow/sdk/internal";
import type { ComponentDescriptor } from "../../gen/component/v1/component";
import { bufCurl } from "../buf-curl";
import { type CheckResult, fail, pass } from "../check-result";
import { kitContract, kitMajors } from "../family-clients";

const FIX =
  "serve grpc.reflection.v1 with the descriptors protoc builds from the vendored protos (the SDK does; in Python, grpcio-reflection with the generated DESCRIPTOR)";

/** What server reflection lists, as `buf curl --list-services` reads it; `problem` when it cannot. */
export interface ReflectionListing {
  services: string[];
  problem?: string;
}

export async function listServices(target: string): Promise<ReflectionListing> {
  const listed = await bufCurl(target, ["--list-services"]);
  if (!listed.ok)
    return { services: [], problem: `buf curl --list-services failed: ${lastLine(listed.stderr)}` };
  return { services: listed.stdout.split("\n").filter((line) => line !== "") };
}

/** The majors of `family`'s contract that reflection lists a service of (`…<family>_service.v<N>.<Service>`). */
export function listedMajors(family: FamilyName, listing: ReflectionListing): number[] {
  const pattern = new RegExp(`^flow\\.microservices\\.${family}_service\\.v(\\d+)\\.[A-Za-z0-9_]+$`);
  return listing.services
    .flatMap((service) => {
      const major = pattern.exec(service)?.[1];
      return major === undefined ? [] : [Number(major)];
    })
    .sort((a, b) => a - b);
}

/**
 * Server reflection lists every major of the family contract the service serves, and health, and
 * no major it does not serve (a tool would offer calls that answer UNIMPLEMENTED).
 */
export function reflectionListCheck(
  family: FamilyName,
  served: number[],
  listing: ReflectionListing,
): CheckResult {
  if (listing.problem !== undefined) return fail("reflection.list", listing.problem, FIX);
  const wanted = [...served.map((major) => kitContract(family, major).service), "grpc.health.v1.Health"];
  const missing = wanted.filter((name) => !listing.services.includes(name));
  const kit = kitMajors(family);
  const unserved = listedMajors(family, listing).filter(
    (major) => kit.includes(major) && !served.includes(major),
  );
  if (missing.length > 0)
    return fail(
      "reflection.list",
      `reflection does not list ${missing.join(", ")} (lists: ${listing.services.join(", ")})`,
      `${FIX}: every major of the contract the server serves, and health`,
    );
  if (unserved.length > 0)
    return fail(
      "reflection.list",
      `reflection lists ${unserved.map((major) => kitContract(family, major).service).join(", ")}, which the server does not serve (Describe there answers UNIMPLEMENTED)`,
      "describe in reflection only the services the server registers",
    );
  return pass("reflection.list", `lists ${listing.services.join(", ")}`);
}

/** `buf curl` describes and calls Describe at one major from reflection alone (protoc's rules, as Go, C++ and Python tools apply them). */
export async function reflectionCallCheck(
  family: FamilyName,
  major: number,
  target: string,
  component: ComponentDescriptor,
): Promise<CheckResult> {
  const service = kitContract(family, major).service;
  const called = await bufCurl(target, ["-d", "{}"], `${service}/Describe`);
  if (!called.ok)
    return fail(
      "reflection.call",
      `buf curl cannot call ${service}/Describe from reflection: ${lastLine(called.stderr)}`,
      `${FIX}; protoc-based tools refuse descriptors protoc would not build (e.g. a map entry not named <Field>Entry)`,
    );
  let name: unknown;
  try {
    name = (JSON.parse(called.stdout) as { component?: { name?: unknown } }).component?.name;
  } catch {
    name = undefined;
  }
  return name === component.name
    ? pass("reflection.call", `buf curl describes and calls ${service}/Describe through reflection alone`)
    : fail(
        "reflection.call",
        `buf curl's Describe answer names ${JSON.stringify(name)}, not ${component.name}`,
        FIX,
      );
}

function lastLine(text: string): string {
  return text.trim().split("\n").at(-1) ?? "";
}
