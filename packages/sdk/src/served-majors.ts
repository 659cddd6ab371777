import type * as grpc from "@grpc/grpc-js";
import { majorOf, withEventConversion } from "./event-wire";
import type { ServedMajor } from "./service-package";

/** The family contract majors this SDK serves: those whose events it converts to FlowEvent (v1 is FlowEvent's own). */
export const SDK_MAJORS: readonly number[] = [1, 2];

/**
 * The majors to serve, lowest first: those the package generated (or the definitions given) that
 * the SDK serves, only `only` when asked. Throws saying what there is when nothing is left.
 */
export function majorsToServe(found: readonly ServedMajor[], contract: string, only?: number): ServedMajor[] {
  const servable = found.filter(({ major }) => SDK_MAJORS.includes(major)).sort((a, b) => a.major - b.major);
  const served = only === undefined ? servable : servable.filter(({ major }) => major === only);
  if (served.length > 0) return served;
  const generated = found.map(({ major }) => `v${major}`).join(", ") || "none";
  if (only !== undefined)
    throw new Error(
      `ServeOptions.major asks for ${contract} v${only}, but this service can serve ${servable.map(({ major }) => `v${major}`).join(", ") || "none"} (generated: ${generated}): vendor ${contract}@^${only} and run pnpm generate, or ask for a major it has`,
    );
  throw new Error(
    `this SDK serves ${contract} ${SDK_MAJORS.map((major) => `v${major}`).join(" and ")}, and the service generated ${generated}: vendor one the SDK serves and run pnpm generate`,
  );
}

/** The definitions given in ServeOptions.service, each with the major its package names. */
export function givenMajors(
  service: grpc.ServiceDefinition | readonly grpc.ServiceDefinition[],
): ServedMajor[] {
  const services = Array.isArray(service) ? service : [service as grpc.ServiceDefinition];
  return services.map((definition) => ({ major: majorOf(definition), service: definition }));
}

/** The definition the server registers for a major: a v2 one converts its events to FlowEvent at the wire. */
export function servedDefinition({ major, service }: ServedMajor): grpc.ServiceDefinition {
  return major === 1 ? service : withEventConversion(service);
}

/**
 * FLOW_CONTRACT_MAJORS (set by Core when it spawns a service): the majors Core speaks with this
 * stage. Undefined when unset or empty.
 */
export function majorsFromEnv(value: string | undefined): number[] | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const parts = value.split(",").map((part) => part.trim());
  if (!parts.every((part) => /^[1-9]\d*$/.test(part)))
    throw new Error(`FLOW_CONTRACT_MAJORS: found "${value}", expected majors separated by commas (e.g. 1,2)`);
  return parts.map(Number);
}

/**
 * The major the handshake names: the highest served that Core speaks too (the highest served
 * when Core did not say). Throws saying what each side speaks when they have none in common.
 */
export function handshakeMajor(
  served: readonly number[],
  coreMajors: readonly number[] | undefined,
  contract: string,
): number {
  const common = coreMajors === undefined ? served : served.filter((major) => coreMajors.includes(major));
  if (common.length > 0) return Math.max(...common);
  const list = (majors: readonly number[]): string => majors.map((major) => `v${major}`).join(", ");
  throw new Error(
    `Core speaks ${contract} ${list(coreMajors ?? [])} with this stage (FLOW_CONTRACT_MAJORS=${coreMajors?.join(",")}), and this service serves ${list(served)}: no major in common; serve one Core speaks (vendor it, or drop ServeOptions.major) or run a Core that speaks ${list(served)}`,
  );
}
