import { UserError } from "@flow/errors";
import { FAMILY_NAMES, type FamilyName } from "@flow/sdk/internal";
import * as grpc from "@grpc/grpc-js";
import {
  CORE_CONTRACTS,
  clientFor,
  deadline,
  describeMajors,
  type NegotiatedContract,
} from "../clients/service-clients";
import type { PipelineStage } from "../config/pipeline-model";
import type { ComponentDescriptor, ConfigIssue } from "../gen/component/v1/component";
import type { DialledEndpoint } from "./negotiate";

/**
 * The contract majors Core speaks with a stage, lowest first: the one its `contractMajor` pins,
 * else every major of its family Core speaks. A spawned service is offered them
 * (FLOW_CONTRACT_MAJORS); negotiation agrees on one of them or fails.
 */
export function offeredMajors(stage: Pick<PipelineStage, "family" | "settings">): number[] {
  const pinned = stage.settings.contractMajor;
  return pinned === undefined ? [...CORE_CONTRACTS[stage.family].majors] : [pinned];
}

/** Describe and Configure: the same messages in every major of every family contract. */
type UnaryClient = grpc.Client & {
  describe(
    request: object,
    options: grpc.CallOptions,
    callback: (error: grpc.ServiceError | null, response?: { component?: ComponentDescriptor }) => void,
  ): void;
  configure(
    request: { configJson: string; validateOnly: boolean; stageId: string },
    options: grpc.CallOptions,
    callback: (
      error: grpc.ServiceError | null,
      response?: { accepted: boolean; issues: ConfigIssue[] },
    ) => void,
  ): void;
};

/** One unary call on a client of `family` at `major`, closed after it. */
async function callAt<T>(
  family: FamilyName,
  target: string,
  major: number,
  invoke: (client: UnaryClient, callback: (error: grpc.ServiceError | null, response?: T) => void) => void,
): Promise<T> {
  const client = clientFor(family, target, major) as UnaryClient;
  try {
    return await new Promise<T>((resolve, reject) =>
      invoke(client, (error, response) => (error ? reject(error) : resolve(response as T))),
    );
  } finally {
    client.close();
  }
}

/** What Describe on one major answered: the descriptor, or that the service does not serve that major. */
export type DescribeAnswer =
  | { component: ComponentDescriptor | undefined }
  | { unimplemented: true }
  | { error: grpc.ServiceError };

/** Describe on `family`'s contract at `major`; UNIMPLEMENTED says the service does not serve that major. */
export async function describeAt(
  family: FamilyName,
  target: string,
  major: number,
  timeoutMs: number,
): Promise<DescribeAnswer> {
  try {
    const response = await callAt<{ component?: ComponentDescriptor }>(
      family,
      target,
      major,
      (client, callback) => client.describe({}, { deadline: deadline(timeoutMs) }, callback),
    );
    return { component: response.component };
  } catch (error) {
    const failure = error as grpc.ServiceError;
    return failure.code === grpc.status.UNIMPLEMENTED ? { unimplemented: true } : { error: failure };
  }
}

/** Configure (validate only) at the negotiated major. */
export function configureAt(
  stage: PipelineStage,
  target: string,
  major: number,
): Promise<{ accepted: boolean; issues: ConfigIssue[] }> {
  return callAt(stage.family, target, major, (client, callback) =>
    client.configure(
      { configJson: JSON.stringify(stage.config ?? {}), validateOnly: true, stageId: stage.id },
      { deadline: deadline(stage.settings.timeouts.callMs) },
      callback,
    ),
  );
}

/**
 * Finds the major Core speaks with a stage's service and describes the service at it. A spawned
 * service named its choice in its handshake, which is tried first when Core offers it; then, as
 * for a service found by address, DNS or registry, every offered major from the highest down,
 * going on to the next while Describe answers UNIMPLEMENTED (the service does not serve that
 * major). When none answers, the problem names what each side speaks.
 */
export async function describeStage(
  stage: PipelineStage,
  endpoint: DialledEndpoint,
): Promise<{ component: ComponentDescriptor; major: number } | { problem: string }> {
  const { family } = stage;
  const offered = offeredMajors(stage);
  const handshake = endpoint.handshakeContract;
  const chosen = handshake?.name === CORE_CONTRACTS[family].name ? handshake.major : undefined;
  const candidates = [...offered].sort((a, b) => b - a);
  if (chosen !== undefined && offered.includes(chosen))
    candidates.unshift(...candidates.splice(candidates.indexOf(chosen), 1));
  const callMs = stage.settings.timeouts.callMs;
  for (const major of candidates) {
    const answer = await describeAt(family, endpoint.target, major, callMs);
    if ("unimplemented" in answer) continue;
    if ("error" in answer) {
      return {
        problem: `cannot describe the service (${endpoint.description} at ${endpoint.target}): ${answer.error.details || answer.error.message}`,
      };
    }
    if (!answer.component) return { problem: "the service's Describe answer holds no component" };
    return { component: answer.component, major };
  }
  return { problem: await noCommonMajor(stage, endpoint, offered, chosen) };
}

/**
 * Why no offered major works: what the service serves (its handshake's choice, and what Describe
 * lists on a major Core speaks but did not offer), against what Core speaks with the stage.
 */
async function noCommonMajor(
  stage: PipelineStage,
  endpoint: DialledEndpoint,
  offered: readonly number[],
  chosen: number | undefined,
): Promise<string> {
  const { family } = stage;
  const { name, majors } = CORE_CONTRACTS[family];
  let theirs: string | undefined;
  for (const major of majors.filter((candidate) => !offered.includes(candidate)).reverse()) {
    const answer = await describeAt(family, endpoint.target, major, stage.settings.timeouts.callMs);
    if ("component" in answer && answer.component) {
      theirs = listedContracts(answer.component, name);
      break;
    }
  }
  theirs ??= chosen !== undefined ? `${name} v${chosen} (its handshake)` : undefined;
  const ours = `this core speaks ${describeMajors(family, offered)} with it${
    stage.settings.contractMajor !== undefined
      ? ` (its contractMajor pins v${stage.settings.contractMajor})`
      : ""
  }`;
  const service = `${endpoint.description} at ${endpoint.target}`;
  return theirs
    ? `the service (${service}) serves ${theirs}; ${ours}`
    : `the service (${service}) answers Describe on none of ${describeMajors(family, [...offered].reverse())} (UNIMPLEMENTED): it serves no ${name} major this core speaks with it, or is not a ${family}; ${ours}`;
}

/** The contracts a descriptor lists, those of the family contract `name` when it lists any: "consumer_service v1 (1.0.1)". */
export function listedContracts(component: ComponentDescriptor, name: string): string {
  const family = component.contracts.filter((contract) => contract.name === name);
  const shown = family.length > 0 ? family : component.contracts;
  return (
    shown.map((c) => `${c.name} v${c.major} (${c.major}.${c.minor}.${c.patch})`).join(", ") || "no contract"
  );
}

/**
 * The contract at `major` of the family contract `name` as the descriptor lists it, with its
 * release; undefined when the descriptor does not list that major.
 */
export function listedContract(
  component: ComponentDescriptor,
  name: string,
  major: number,
): NegotiatedContract | undefined {
  const listed = component.contracts.find((contract) => contract.name === name && contract.major === major);
  return listed && { name, major, version: `${listed.major}.${listed.minor}.${listed.patch}` };
}

/**
 * Describes a service of unknown family (`flow describe <service>`) as Core would speak with it:
 * a spawned service at the contract its handshake names, else each family's contract from its
 * highest major down, moving on while Describe answers UNIMPLEMENTED. Throws a UserError naming
 * what each attempt answered when nothing does.
 */
export async function describeAnyService(
  endpoint: DialledEndpoint,
  timeoutMs: number,
): Promise<{ component: ComponentDescriptor; family: FamilyName; contract: NegotiatedContract }> {
  const handshake = endpoint.handshakeContract;
  const attempts = FAMILY_NAMES.flatMap((family) =>
    [...CORE_CONTRACTS[family].majors].reverse().map((major) => ({ family, major })),
  );
  const chosen = attempts.findIndex(
    ({ family, major }) => CORE_CONTRACTS[family].name === handshake?.name && major === handshake.major,
  );
  if (chosen > 0) attempts.unshift(...attempts.splice(chosen, 1));
  const failures: string[] = [];
  for (const { family, major } of attempts) {
    const { name } = CORE_CONTRACTS[family];
    const answer = await describeAt(family, endpoint.target, major, timeoutMs);
    if ("component" in answer && answer.component) {
      const contract = listedContract(answer.component, name, major) ?? { name, major, version: "unlisted" };
      return { component: answer.component, family, contract };
    }
    failures.push(
      `${name} v${major}: ${"error" in answer ? answer.error.details || answer.error.message : "unimplemented" in answer ? "UNIMPLEMENTED" : "no component"}`,
    );
  }
  throw new UserError(
    `${endpoint.description} at ${endpoint.target} answers no Flow family contract this core speaks`,
    {
      hint: failures.join("; "),
    },
  );
}
