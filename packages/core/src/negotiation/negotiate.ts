import { FAMILY } from "@flow/sdk/internal";
import type * as grpc from "@grpc/grpc-js";
import { CORE_CONTRACTS, clientFor, deadline } from "../clients/service-clients";
import type { Pipeline, PipelineStage } from "../config/pipeline-model";
import type { ServiceEndpoint } from "../discovery/service-endpoint";
import type { ComponentDescriptor, ConfigIssue } from "../gen/component/v1/component";
import { Family, Severity } from "../gen/component/v1/component";
import { checkConfigAgainstSchema, checkHandshakeContract, checkHealthService } from "./service-checks";
import { type StageByteLimit, stageByteLimit } from "./stage-byte-limit";

/** What negotiation needs of an endpoint: where to dial and how to name it in messages. */
type DialledEndpoint = Pick<ServiceEndpoint, "target" | "description"> &
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
  problems: NegotiationProblem[];
}

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

function call<T>(
  invoke: (callback: (error: grpc.ServiceError | null, response?: T) => void) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) =>
    invoke((error, response) => (error ? reject(error) : resolve(response as T))),
  );
}

/**
 * Before any data flows: describe every service, check it is of the stage's family and speaks a
 * contract major this core speaks, check event types along every edge, and send every config in
 * validate-only mode. Every problem of every service comes back at once.
 */
export async function negotiate(
  plan: Pipeline,
  endpoints: ReadonlyMap<string, DialledEndpoint>,
): Promise<NegotiationResult> {
  const descriptors = new Map<string, ComponentDescriptor>();
  const perStage = await Promise.all(
    plan.stages.map(async (stage): Promise<NegotiationProblem[]> => {
      const endpoint = endpoints.get(stage.id);
      if (!endpoint) return [{ stageId: stage.id, message: "service was not started", severity: "error" }];
      const client = clientFor(stage.family, endpoint.target) as unknown as UnaryClient;
      try {
        return await negotiateStage(stage, endpoint, client, descriptors);
      } finally {
        client.close();
      }
    }),
  );
  const problems = perStage.flat();
  problems.push(...checkEventTypes(plan, descriptors));
  const limits = new Map(
    plan.stages.map((stage) => [stage.id, stageByteLimit(stage, descriptors.get(stage.id))]),
  );
  return { descriptors, limits, problems };
}

async function negotiateStage(
  stage: PipelineStage,
  endpoint: DialledEndpoint,
  client: UnaryClient,
  descriptors: Map<string, ComponentDescriptor>,
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
  let component: ComponentDescriptor | undefined;
  try {
    const response = await call<{ component?: ComponentDescriptor }>((callback) =>
      client.describe({}, { deadline: deadline(stage.settings.timeouts.callMs) }, callback),
    );
    component = response.component;
  } catch (error) {
    return [
      problem(
        `cannot describe the service (${endpoint.description} at ${endpoint.target}): ${(error as grpc.ServiceError).details || (error as Error).message}`,
      ),
    ];
  }
  if (!component) return [problem("the service's Describe answer holds no component")];
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
  const spoken = component.contracts.filter((contract) => contract.name === wanted.name);
  if (!spoken.some((contract) => wanted.majors.includes(contract.major))) {
    const theirs =
      spoken.length > 0
        ? spoken.map((c) => `${c.name} v${c.major} (${c.major}.${c.minor}.${c.patch})`).join(", ")
        : component.contracts.map((c) => `${c.name} v${c.major}`).join(", ") || "no contract";
    problems.push(
      problem(
        `"${component.name}" speaks ${theirs}; this core speaks ${wanted.majors.map((major) => `${wanted.name} v${major}`).join(", ")}`,
      ),
    );
    return problems;
  }
  const callMs = stage.settings.timeouts.callMs;
  for (const finding of [
    ...checkHandshakeContract(endpoint.handshakeContract, component, wanted.name),
    ...(await checkHealthService(endpoint.target, callMs)),
    ...checkConfigAgainstSchema(component, stage.config),
  ]) {
    problems.push(problem(finding.message, finding.pointer, finding.severity));
  }

  try {
    const response = await call<{ accepted: boolean; issues: ConfigIssue[] }>((callback) =>
      client.configure(
        { configJson: JSON.stringify(stage.config ?? {}), validateOnly: true, stageId: stage.id },
        { deadline: deadline(stage.settings.timeouts.callMs) },
        callback,
      ),
    );
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
