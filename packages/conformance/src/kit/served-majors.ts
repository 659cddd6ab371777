import { FAMILY_NAMES, type FamilyName } from "@flow/sdk/internal";
import type { ComponentDescriptor } from "../gen/component/v1/component";
import { type CheckResult, fail, pass } from "./check-result";
import { listedMajors, type ReflectionListing } from "./checks/reflection-checks";
import { type DescribeAnswer, describeAt, kitMajors } from "./family-clients";
import type { ServiceInstance } from "./service-launcher";

/** What the kit found a service to be: its family, and Describe at every major the kit speaks with it. */
export interface FoundService {
  family: FamilyName;
  /** Describe at each major the kit speaks with the family. */
  answers: Map<number, DescribeAnswer>;
}

const answerText = (answer: DescribeAnswer): string =>
  "unimplemented" in answer ? "UNIMPLEMENTED" : "error" in answer ? answer.error : "answered";

/**
 * The service's family (the one its handshake names, else the first whose Describe answers at a
 * major the kit speaks) and Describe at every major of it, highest first as Core asks a service
 * it did not start; or why none answered.
 */
export async function findService(
  instance: ServiceInstance,
  timeoutMs: number,
): Promise<FoundService | { problem: string }> {
  const named = instance.handshake?.contract.replace(/_service$/, "") as FamilyName | undefined;
  const families = named && FAMILY_NAMES.includes(named) ? [named] : [...FAMILY_NAMES];
  const failures: string[] = [];
  for (const family of families) {
    const answers = new Map<number, DescribeAnswer>();
    for (const major of kitMajors(family).reverse())
      answers.set(major, await describeAt(family, instance.target, major, timeoutMs));
    if ([...answers.values()].some((answer) => "component" in answer)) return { family, answers };
    failures.push(
      `${family}_service ${[...answers].map(([major, answer]) => `v${major}: ${answerText(answer)}`).join(", ")}`,
    );
  }
  return { problem: `Describe failed: ${failures.join("; ")}` };
}

/**
 * The majors of the family contract the service serves that the kit speaks, lowest first: those
 * Describe answers at (an error included), not UNIMPLEMENTED, as Core tells them.
 */
export function servedMajors(found: FoundService): number[] {
  return kitMajors(found.family).filter((major) => {
    const answer = found.answers.get(major);
    return answer !== undefined && !("unimplemented" in answer);
  });
}

/** Describe's answer at each served major that answered. */
export function describedMajors(found: FoundService, served: number[]): Map<number, ComponentDescriptor> {
  return new Map(
    served.flatMap((major) => {
      const answer = found.answers.get(major);
      return answer && "component" in answer ? [[major, answer.component] as const] : [];
    }),
  );
}

/** Which majors of its contract the service serves, of those the kit speaks (and any beyond them reflection lists). */
export function servedMajorsCheck(
  found: FoundService,
  served: number[],
  listing: ReflectionListing,
): CheckResult {
  const name = `${found.family}_service`;
  const kit = kitMajors(found.family);
  const list = (majors: number[]) => majors.map((major) => `v${major}`).join(", ");
  const beyond = listedMajors(found.family, listing).filter((major) => !kit.includes(major));
  const also =
    beyond.length > 0 ? `; reflection also lists ${list(beyond)}, which this kit does not speak` : "";
  if (served.length === 0)
    return fail(
      "contract.majors",
      `serves none of ${name} ${list(kit)}, the majors the kit speaks${also}`,
      `serve ${name} at a major Core speaks (${list(kit)})`,
    );
  return pass(
    "contract.majors",
    `serves ${name} ${list(served)}, of the ${list(kit)} the kit speaks: the contract checks run at each${also}`,
  );
}
