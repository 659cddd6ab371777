import { EventEmitter } from "node:events";
import { UserError, UserErrors } from "@flow/errors";
import { checkHealth, type HealthStatus } from "@flow/sdk/internal";
import type { Logger } from "pino";
import type { Pipeline } from "../config/pipeline-model";
import { ServiceEndpoint } from "../discovery/service-endpoint";
import { type NegotiationProblem, negotiate } from "../negotiation/negotiate";
import type { StageByteLimit } from "../negotiation/stage-byte-limit";
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
}

/** What a run needs of its services (StageServices; tests pass fakes). */
export interface RunServices {
  start(): Promise<void>;
  negotiate(): Promise<Negotiated>;
  endpoint(stageId: string): LinkEndpoint;
  watchHealth(intervalMs: number, onStatus: (stageId: string, status: HealthStatus) => void): () => void;
  stop(): Promise<void>;
  on(event: "restarted", listener: (stageId: string, count: number, reason: string) => void): unknown;
}

export interface Negotiated {
  /** Issues of severity "warning" (errors are thrown). */
  warnings: NegotiationProblem[];
  /** Each stage's byte limit, by stage id. */
  limits: Map<string, StageByteLimit>;
}

/**
 * The services of a pipeline's stages and their lifecycle: start (spawned ones in parallel),
 * negotiate, watch health, stop. `flow run`, `flow validate` and `flow describe` share it.
 * Emits "restarted" (stageId, count, reason) when a stage's service was restarted or reconnected.
 */
export class StageServices extends EventEmitter implements RunServices {
  readonly endpoints = new Map<string, ServiceEndpoint>();

  constructor(private readonly options: StageServicesOptions) {
    super();
    const { plan, logger } = options;
    for (const stage of plan.stages) {
      const endpoint = new ServiceEndpoint({
        stageId: stage.id,
        locator: stage.locator,
        baseDir: plan.baseDir,
        handshakeTimeoutMs: stage.settings.timeouts.handshakeMs,
        restart: stage.settings.restart,
        logger,
        lookupRegistry: options.lookupRegistry,
      });
      endpoint.on("restarted", (count: number, reason: string) => {
        logger.warn({ stage: stage.id, restarts: count, reason }, "service restarted");
        this.emit("restarted", stage.id, count, reason);
      });
      this.endpoints.set(stage.id, endpoint);
    }
  }

  endpoint(stageId: string): ServiceEndpoint {
    const endpoint = this.endpoints.get(stageId);
    if (!endpoint) throw new Error(`no service for stage "${stageId}"`);
    return endpoint;
  }

  /** Starts every service; when any cannot start, stops the others and throws every failure. */
  async start(): Promise<void> {
    const started = await Promise.allSettled(
      [...this.endpoints.values()].map((endpoint) => endpoint.start()),
    );
    const failures = started.flatMap((result) =>
      result.status === "rejected" ? [result.reason as Error] : [],
    );
    if (failures.length === 0) return;
    await this.stop();
    throw failures.length === 1
      ? failures[0]
      : new UserErrors(failures.map(asUserError), `${failures.length} services could not start`);
  }

  /** Describe, contract and event-type checks, validate-only configs; throws every error at once. */
  async negotiate(): Promise<Negotiated> {
    const { problems, limits } = await negotiate(this.options.plan, this.endpoints);
    const errors = problems.filter((problem) => problem.severity === "error");
    if (errors.length > 0) {
      const describe = this.options.describeProblem ?? describeProblem;
      throw new UserErrors(
        errors.map(describe),
        `${errors.length} problem(s) found while negotiating with the services`,
      );
    }
    return { warnings: problems, limits };
  }

  /**
   * Polls every service's grpc.health.v1 status each `intervalMs`, telling `onStatus`; a spawned
   * service that fails UNHEALTHY_AFTER_CHECKS checks in a row is killed, which its link's
   * recovery turns into a restart. Returns the function that stops the polling.
   */
  watchHealth(intervalMs: number, onStatus: (stageId: string, status: HealthStatus) => void): () => void {
    const failures = new Map<string, number>();
    const poll = async (stageId: string, endpoint: ServiceEndpoint): Promise<void> => {
      const stage = this.options.plan.stages.find((s) => s.id === stageId);
      const status = await checkHealth(endpoint.target, stage?.settings.timeouts.callMs ?? 5000);
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
    const timer = setInterval(() => {
      for (const [stageId, endpoint] of this.endpoints) void poll(stageId, endpoint);
    }, intervalMs);
    return () => clearInterval(timer);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.endpoints.values()].map((endpoint) => endpoint.stop()));
  }
}

function describeProblem(problem: NegotiationProblem): UserError {
  return new UserError(
    `stage "${problem.stageId}": ${problem.pointer ? `config ${problem.pointer}: ` : ""}${problem.message}`,
  );
}

function asUserError(error: Error): UserError {
  return error instanceof UserError ? error : new UserError(error.message);
}
