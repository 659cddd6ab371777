import { EventEmitter } from "node:events";
import { UserError, UserErrors } from "@flow/errors";
import { checkHealth, type HealthStatus } from "@flow/sdk/internal";
import type { Logger } from "pino";
import type { Pipeline, PipelineStage } from "../config/pipeline-model";
import { ServiceEndpoint } from "../discovery/service-endpoint";
import { type NegotiationProblem, negotiate } from "../negotiation/negotiate";
import type { StageByteLimit } from "../negotiation/stage-byte-limit";
import { offeredMajors } from "../negotiation/stage-contract";
import { bundlesAgreed } from "./bundled-link-stream";
import type { LinkEndpoint } from "./link-stream";

/** Consecutive failed health checks after which a spawned service is replaced. */
const UNHEALTHY_AFTER_CHECKS = 3;

export interface StageServicesOptions {
  plan: Pipeline;
  logger: Logger;
  /** Addresses registered under a name (`registry:` stages); none when absent. */
  lookupRegistry?: (name: string) => Promise<string[]>;
  /** Formats negotiation problems into user errors (the CLI maps config pointers to file:line:col). */
  describeProblem?: (problem: NegotiationProblem) => UserError;
  /** How a service's grpc.health.v1 status is asked for (tests pass a fake); the SDK's check by default. */
  checkHealth?: (target: string, timeoutMs: number) => Promise<HealthStatus>;
}

/** What a run needs of its services (StageServices; tests pass fakes). */
export interface RunServices {
  start(): Promise<void>;
  negotiate(): Promise<Negotiated>;
  endpoint(stageId: string): LinkEndpoint;
  watchHealth(intervalMs: number, onStatus: (stageId: string, status: HealthStatus) => void): () => void;
  stop(): Promise<void>;
  on(event: "restarted", listener: (stageId: string, count: number, reason: string) => void): unknown;
  /** Reloads (see StageServices): start and negotiate new stages' services beside the running ones. */
  prepare(
    next: Pipeline,
    stageIds: readonly string[],
    describe?: (problem: NegotiationProblem) => UserError,
  ): Promise<PreparedServices>;
  install(prepared: PreparedServices, next: Pipeline): void;
  discard(prepared: PreparedServices): Promise<void>;
  retire(stageIds: readonly string[]): Promise<void>;
}

/** Services started and negotiated for a reload, not yet in the run. */
export interface PreparedServices {
  endpoints: Map<string, ServiceEndpoint>;
  limits: Map<string, StageByteLimit>;
  /** The prepared stages whose service does the direct data path (see Negotiated). */
  directPath: ReadonlySet<string>;
}

export interface Negotiated {
  /** Issues of severity "warning" (errors are thrown). */
  warnings: NegotiationProblem[];
  /** Each stage's byte limit, by stage id. */
  limits: Map<string, StageByteLimit>;
  /**
   * The ids of the stages whose service said in Describe that it takes part in the direct data
   * path (features.direct_path); which edges are direct is decided from both ends (direct-edges.ts).
   */
  directPath: ReadonlySet<string>;
}

/**
 * The services of a pipeline's stages and their lifecycle: start (spawned ones in parallel),
 * negotiate, watch health, stop. `flow run`, `flow validate` and `flow describe` share it.
 * Emits "restarted" (stageId, count, reason) when a stage's service was restarted or reconnected.
 */
export class StageServices extends EventEmitter implements RunServices {
  readonly endpoints = new Map<string, ServiceEndpoint>();

  private plan: Pipeline;

  constructor(private readonly options: StageServicesOptions) {
    super();
    this.plan = options.plan;
    for (const stage of options.plan.stages) this.endpoints.set(stage.id, this.createEndpoint(stage));
  }

  private createEndpoint(stage: PipelineStage): ServiceEndpoint {
    const { logger } = this.options;
    const endpoint = new ServiceEndpoint({
      stageId: stage.id,
      locator: stage.locator,
      baseDir: this.plan.baseDir,
      handshakeTimeoutMs: stage.settings.timeouts.handshakeMs,
      restart: stage.settings.restart,
      logger,
      lookupRegistry: this.options.lookupRegistry,
      contractMajors: offeredMajors(stage),
    });
    endpoint.on("restarted", (count: number, reason: string) => {
      logger.warn({ stage: stage.id, restarts: count, reason }, "service restarted");
      this.emit("restarted", stage.id, count, reason);
    });
    return endpoint;
  }

  endpoint(stageId: string): ServiceEndpoint {
    const endpoint = this.endpoints.get(stageId);
    if (!endpoint) throw new Error(`no service for stage "${stageId}"`);
    return endpoint;
  }

  /** Starts every service; when any cannot start, stops the others and throws every failure. */
  async start(): Promise<void> {
    try {
      await startAll(this.endpoints);
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** Describe, contract and event-type checks, validate-only configs; throws every error at once. */
  async negotiate(): Promise<Negotiated> {
    return negotiateOrThrow(this.plan, this.endpoints, this.options.describeProblem);
  }

  /**
   * Starts and negotiates the services of `stageIds` of a new version of the pipeline beside the
   * running ones, which are left untouched (a reload applies them with `install`, or drops them
   * with `discard`). Throws every problem at once, having stopped what it started.
   */
  async prepare(
    next: Pipeline,
    stageIds: readonly string[],
    describe?: (problem: NegotiationProblem) => UserError,
  ): Promise<PreparedServices> {
    const stages = next.stages.filter((stage) => stageIds.includes(stage.id));
    const endpoints = new Map(stages.map((stage) => [stage.id, this.createEndpoint(stage)]));
    const prepared: PreparedServices = { endpoints, limits: new Map(), directPath: new Set() };
    try {
      await startAll(endpoints);
      const { limits, directPath } = await negotiateOrThrow({ ...next, stages }, endpoints, describe);
      prepared.limits = limits;
      prepared.directPath = directPath;
      return prepared;
    } catch (error) {
      await this.discard(prepared);
      throw error;
    }
  }

  /** Puts prepared services in place of the stages' current ones (stop those first with `retire`). */
  install(prepared: PreparedServices, next: Pipeline): void {
    this.plan = next;
    for (const [stageId, endpoint] of prepared.endpoints) this.endpoints.set(stageId, endpoint);
  }

  async discard(prepared: PreparedServices): Promise<void> {
    await Promise.all([...prepared.endpoints.values()].map((endpoint) => endpoint.stop()));
  }

  /** Stops the services of stages leaving the run and forgets them. */
  async retire(stageIds: readonly string[]): Promise<void> {
    const leaving = stageIds.flatMap((id) => {
      const endpoint = this.endpoints.get(id);
      this.endpoints.delete(id);
      return endpoint ? [endpoint] : [];
    });
    await Promise.all(leaving.map((endpoint) => endpoint.stop()));
  }

  /**
   * Polls every service's grpc.health.v1 status at once, then each `intervalMs`, telling
   * `onStatus`: the run's status and /readyz know every stage's health from the start, not an
   * interval into the run. A spawned service that fails UNHEALTHY_AFTER_CHECKS checks in a row is
   * killed, which its link's recovery turns into a restart. Returns the function that stops the
   * polling (an answer still on its way is dropped).
   */
  watchHealth(intervalMs: number, onStatus: (stageId: string, status: HealthStatus) => void): () => void {
    const check = this.options.checkHealth ?? checkHealth;
    const failures = new Map<string, number>();
    let stopped = false;
    const poll = async (stageId: string, endpoint: ServiceEndpoint): Promise<void> => {
      const stage = this.plan.stages.find((s) => s.id === stageId);
      const status = await check(endpoint.target, stage?.settings.timeouts.callMs ?? 5000);
      if (stopped) return;
      onStatus(stageId, status);
      const failed = status === "serving" ? 0 : (failures.get(stageId) ?? 0) + 1;
      failures.set(stageId, failed);
      if (failed === UNHEALTHY_AFTER_CHECKS) {
        const replaced = await endpoint.replaceUnhealthy();
        this.options.logger.warn(
          { stage: stageId, status, action: replaced ? "killed for restart" : "waiting" },
          "service is not serving",
        );
      }
    };
    const pollAll = (): void => {
      for (const [stageId, endpoint] of this.endpoints) void poll(stageId, endpoint);
    };
    pollAll();
    const timer = setInterval(pollAll, intervalMs);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }

  async stop(): Promise<void> {
    await Promise.all([...this.endpoints.values()].map((endpoint) => endpoint.stop()));
  }
}

/** Starts every endpoint in parallel; throws every failure at once. */
async function startAll(endpoints: ReadonlyMap<string, ServiceEndpoint>): Promise<void> {
  const started = await Promise.allSettled([...endpoints.values()].map((endpoint) => endpoint.start()));
  const failures = started.flatMap((result) =>
    result.status === "rejected" ? [result.reason as Error] : [],
  );
  if (failures.length === 0) return;
  throw failures.length === 1
    ? failures[0]
    : new UserErrors(failures.map(asUserError), `${failures.length} services could not start`);
}

async function negotiateOrThrow(
  plan: Pipeline,
  endpoints: ReadonlyMap<string, ServiceEndpoint>,
  describe: ((problem: NegotiationProblem) => UserError) | undefined,
): Promise<Negotiated> {
  const { problems, limits, contracts, descriptors } = await negotiate(plan, endpoints);
  // The links open their streams at the agreed major (see ServiceEndpoint.contract).
  for (const [stageId, contract] of contracts) {
    const endpoint = endpoints.get(stageId);
    if (!endpoint) continue;
    endpoint.contract = contract;
    endpoint.bundles = bundlesAgreed(
      plan.streamBundles !== false,
      contract.major,
      descriptors.get(stageId)?.features,
    );
  }
  const errors = problems.filter((problem) => problem.severity === "error");
  if (errors.length > 0) {
    throw new UserErrors(
      errors.map(describe ?? describeProblem),
      `${errors.length} problem(s) found while negotiating with the services`,
    );
  }
  const directPath = new Set(
    [...descriptors].flatMap(([stageId, component]) => (component.features?.directPath ? [stageId] : [])),
  );
  return { warnings: problems, limits, directPath };
}

function describeProblem(problem: NegotiationProblem): UserError {
  return new UserError(
    `stage "${problem.stageId}": ${problem.pointer ? `config ${problem.pointer}: ` : ""}${problem.message}`,
  );
}

function asUserError(error: Error): UserError {
  return error instanceof UserError ? error : new UserError(error.message);
}
