import { FAMILY } from "@flow/sdk/internal";
import type * as grpc from "@grpc/grpc-js";
import { CORE_CONTRACTS, type NegotiatedContract } from "../clients/service-clients";
import type { Pipeline, PipelineStage } from "../config/pipeline-model";
import type { ServiceEndpoint } from "../discovery/service-endpoint";
import type { ComponentDescriptor } from "../gen/component/v1/component";
import { Family, Severity } from "../gen/component/v1/component";
import { checkConfigAgainstSchema, checkHandshakeContract, checkHealthService } from "./service-checks";
import { type StageByteLimit, stageByteLimit } from "./stage-byte-limit";
import { configureAt, describeStage, listedContract, listedContracts } from "./stage-contract";

/** What negotiation needs of an endpoint: where to dial and how to name it in messages. */
export type DialledEndpoint = Pick<ServiceEndpoint, "target" | "description"> &
  Partial<Pick<ServiceEndpoint, "handshakeContract">>;

/** One problem found while negotiating, attached to a stage and, for a service's config, a JSON Pointer. */
export interface NegotiationProblem {
  stageId: string;
  message: string;
  /** JSON Pointer into the stage's `config` (problems a service found in its config only). */
  pointer?: string;
  severity: "error" | "warning";
}

export interface NegotiationResult {
  descriptors: Map<string, ComponentDescriptor>;
  /** Every stage's byte limit, by stage id: what its batches are cut to (see stage-byte-limit.ts). */
  limits: Map<string, StageByteLimit>;
  /** The contract (name, major, release) Core and each stage's service agreed on, by stage id. */
  contracts: Map<string, NegotiatedContract>;
  problems: NegotiationProblem[];
}

/**
 * Before any data flows: describe every service at a contract major both sides speak (see
 * `describeStage`), check it is of the stage's family, check event types along every edge, and
 * send every config in validate-only mode. Every problem of every service comes back at once.
 */
export async function negotiate(
  plan: Pipeline,
  endpoints: ReadonlyMap<string, DialledEndpoint>,
): Promise<NegotiationResult> {
  const descriptors = new Map<string, ComponentDescriptor>();
  const contracts = new Map<string, NegotiatedContract>();
  const perStage = await Promise.all(
    plan.stages.map(async (stage): Promise<NegotiationProblem[]> => {
      const endpoint = endpoints.get(stage.id);
      if (!endpoint) return [{ stageId: stage.id, message: "service was not started", severity: "error" }];
      return negotiateStage(stage, endpoint, descriptors, contracts);
    }),
  );
  const problems = perStage.flat();
  problems.push(...checkEventTypes(plan, descriptors));
  const limits = new Map(
    plan.stages.map((stage) => [stage.id, stageByteLimit(stage, descriptors.get(stage.id))]),
  );
  return { descriptors, limits, contracts, problems };
}

async function negotiateStage(
  stage: PipelineStage,
  endpoint: DialledEndpoint,
  descriptors: Map<string, ComponentDescriptor>,
  contracts: Map<string, NegotiatedContract>,
): Promise<NegotiationProblem[]> {
  const problem = (
    message: string,
    pointer?: string,
    severity: "error" | "warning" = "error",
  ): NegotiationProblem => ({
    stageId: stage.id,
    message,
    pointer,
    severity,
  });
  const described = await describeStage(stage, endpoint);
  if ("problem" in described) return [problem(described.problem)];
  const { component, major } = described;
  descriptors.set(stage.id, component);

  const problems: NegotiationProblem[] = [];
  if (component.family !== FAMILY[stage.family]) {
    problems.push(
      problem(
        `"${component.name}" is not a ${stage.family} (it describes itself as family ${Family[component.family] ?? component.family})`,
      ),
    );
  }
  const wanted = CORE_CONTRACTS[stage.family];
  const contract = listedContract(component, wanted.name, major);
  if (!contract) {
    problems.push(
      problem(
        `"${component.name}" answers Describe on ${wanted.name} v${major} but lists ${listedContracts(component, wanted.name)}; a service lists, in its descriptor's contracts, every major it serves`,
      ),
    );
    return problems;
  }
  contracts.set(stage.id, contract);
  const callMs = stage.settings.timeouts.callMs;
  for (const finding of [
    ...checkHandshakeContract(endpoint.handshakeContract, component, wanted.name),
    ...(await checkHealthService(endpoint.target, callMs)),
    ...checkConfigAgainstSchema(component, stage.config),
  ]) {
    problems.push(problem(finding.message, finding.pointer, finding.severity));
  }

  try {
    const response = await configureAt(stage, endpoint.target, major);
    for (const found of response.issues) {
      // The SDK checks the same schema: say each problem once.
      if (problems.some((known) => known.pointer === found.path && known.message === found.message)) continue;
      problems.push(
        problem(
          found.message,
          found.path,
          found.severity === Severity.SEVERITY_WARNING ? "warning" : "error",
        ),
      );
    }
    if (
      !response.accepted &&
      !response.issues.some((found) => found.severity !== Severity.SEVERITY_WARNING)
    ) {
      problems.push(problem("the service rejected its configuration without saying why"));
    }
  } catch (error) {
    problems.push(
      problem(
        `configure (validate only) failed: ${(error as grpc.ServiceError).details || (error as Error).message}`,
      ),
    );
  }
  return problems;
}

/** A type matches a pattern exactly, or by prefix when the pattern ends in "*". */
export function typeMatches(type: string, pattern: string): boolean {
  return pattern.endsWith("*") ? type.startsWith(pattern.slice(0, -1)) : type === pattern;
}

/** Event types each stage emits; undefined when unknown (any). A processor that names none passes its inputs' types on. */
function producedTypes(
  plan: Pipeline,
  descriptors: ReadonlyMap<string, ComponentDescriptor>,
): Map<string, string[] | undefined> {
  const produced = new Map<string, string[] | undefined>();
  const resolve = (stage: PipelineStage, seen: Set<string>): string[] | undefined => {
    if (produced.has(stage.id)) return produced.get(stage.id);
    const own = descriptors.get(stage.id)?.producedEventTypes ?? [];
    let types: string[] | undefined = own.length > 0 ? own : undefined;
    if (!types && stage.family === "processor" && !seen.has(stage.id)) {
      seen.add(stage.id);
      const inputs = stage.inputs
        .map((id) => plan.stages.find((s) => s.id === id))
        .filter((s): s is PipelineStage => !!s);
      const upstream = inputs.map((input) => resolve(input, seen));
      types = upstream.some((list) => list === undefined)
        ? undefined
        : [...new Set(upstream.flat() as string[])];
    }
    produced.set(stage.id, types);
    return types;
  };
  for (const stage of plan.stages) resolve(stage, new Set());
  return produced;
}

function checkEventTypes(
  plan: Pipeline,
  descriptors: ReadonlyMap<string, ComponentDescriptor>,
): NegotiationProblem[] {
  const produced = producedTypes(plan, descriptors);
  const problems: NegotiationProblem[] = [];
  for (const stage of plan.stages) {
    const accepted = descriptors.get(stage.id)?.acceptedEventTypes ?? [];
    if (accepted.length === 0) continue;
    for (const input of stage.inputs) {
      const types = produced.get(input);
      if (!types || types.length === 0) continue;
      const unwanted = types.filter((type) => !accepted.some((pattern) => typeMatches(type, pattern)));
      if (unwanted.length > 0) {
        problems.push({
          stageId: stage.id,
          severity: "error",
          message: `accepts ${accepted.join(", ")} but its input "${input}" produces ${unwanted.join(", ")}`,
        });
      }
    }
  }
  return problems;
}
