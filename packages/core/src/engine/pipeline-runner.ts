import { EventEmitter } from "node:events";
import type { Pipeline } from "../config/pipeline-model";
import { DataPlaneRestart } from "./data-plane-restart";
import { DeadLetterFile } from "./dead-letter-file";
import { atLeastOnce, atMostOnce, type DeliveryPolicy } from "./delivery-policy";
import { PipelineReloads, type ReloadResult } from "./pipeline-reload";
import { RunDirectPath } from "./run-direct-path";
import { RunProgress } from "./run-progress";
import { RunStages } from "./run-stages";
import type { RunnerOptions, RunOutcome, RunResult } from "./runner-options";
import { SourceDriver } from "./source-driver";
import type { SourceNode } from "./source-node";
import { closeStageLinks, openStageLinks, overdueCheckIntervalMs, type StageLink } from "./stage-links";
import { StageOutcomes } from "./stage-outcomes";
import type { StageRecord } from "./stage-record";
import { type RunServices, StageServices } from "./stage-services";
import { StoreOutage } from "./store-outage";

export type { ReloadResult } from "./pipeline-reload";
export type { RunnerOptions, RunOutcome, RunResult, RunStreams } from "./runner-options";

type Outcome = { status: RunOutcome; error?: Error };

/**
 * Runs a pipeline: claims it, has its services started and negotiated (StageServices), then
 * moves batches from sources (SourceDriver) through processors to consumers (links), doing with
 * what each stage reports what the delivery guarantee says (StageOutcomes, DeliveryPolicy), with
 * per-source commits; it keeps run, stop and finish. Memory stays bounded because a source only
 * gets a credit when one of its batches is acknowledged everywhere downstream.
 *
 * Events: "progress" (StageCounters[]) on every stats interval; "restarted" (stageId, count, reason).
 */
export class PipelineRunner extends EventEmitter {
  /** The pipeline as it runs now, its records and links: a reload replaces what changed. */
  private readonly stages: RunStages;
  private readonly services: RunServices;
  private readonly policy: DeliveryPolicy;
  private readonly outcomes: StageOutcomes;
  private readonly sources: SourceDriver;
  private readonly outage: StoreOutage;
  private readonly reloads: PipelineReloads;
  private readonly progress: RunProgress;
  /** The direct data path's answer to losing events Core never held (data-plane-restart.ts). */
  private readonly restart: DataPlaneRestart;
  private readonly directPath: RunDirectPath;
  private deadLetters: DeadLetterFile | undefined;
  private runId = "";
  private stopRequested = false;
  private settle: ((outcome: Outcome) => void) | undefined;
  private readonly stopTimers: (() => void)[] = [];

  constructor(private readonly options: RunnerOptions) {
    super();
    const { plan, store, logger } = options;
    this.stages = new RunStages(plan);
    this.progress = new RunProgress({
      stages: this.stages,
      store,
      runId: () => this.runId,
      onProgress: (stages) => this.emit("progress", stages),
      onClaimLost: (error) => this.fail(error),
    });
    this.services =
      options.services ??
      new StageServices({
        plan,
        logger,
        describeProblem: options.describeProblem,
        lookupRegistry: async (name) => (await store.listServices(name)).map((service) => service.address),
      });
    this.services.on("restarted", (stageId: string, count: number, reason: string) => {
      this.progress.restarted(stageId, count);
      this.emit("restarted", stageId, count, reason);
    });
    this.outage = new StoreOutage({
      location: store.location,
      limitMs: plan.stateUnreachableLimitMs,
      logger,
      onRecovered: () => this.sources.storeRecovered(),
    });
    const sourceNodes = new Map<string, SourceNode>();
    this.policy =
      plan.delivery === "at-most-once"
        ? atMostOnce(sourceNodes, () => this.stages.busiestLinkHeld())
        : atLeastOnce(sourceNodes);
    this.outcomes = new StageOutcomes({
      records: this.stages.records,
      policy: this.policy,
      logger,
      metrics: options.metrics,
      deadLetters: () => this.deadLetters,
      settled: (source) => this.sources.settled(source),
      fail: (error) => this.fail(error),
      refLost: (reason) => this.restart.restart(reason),
    });
    this.directPath = new RunDirectPath({
      stages: this.stages,
      services: this.services,
      logger,
      traces: options.metrics?.traces,
    });
    this.restart = new DataPlaneRestart({
      links: () => this.stages.links,
      sources: { restartData: (ready) => this.sources.restartData(ready) },
      logger,
    });
    this.sources = new SourceDriver({
      plan: () => this.stages.plan,
      store,
      logger,
      outage: this.outage,
      services: this.services,
      records: this.stages.records,
      commitIntervalMs: options.commitIntervalMs,
      openStream: options.streams?.source,
      runId: () => this.runId,
      nodes: sourceNodes,
      policy: this.policy,
      syncDeadLetters: () => this.deadLetters?.sync(),
      onBatch: (source, sequence, batch, checkpoint) =>
        this.outcomes.read(source, sequence, batch, checkpoint),
      stopping: () => this.stopRequested,
      running: () => this.settle !== undefined,
      onFailed: (error) => this.fail(error),
      peers: (record) => this.directPath.peersOf(record),
      onAllDone: () =>
        void closeStageLinks(this.stages.links).then(() =>
          this.finish({ status: this.stopRequested ? "stopped" : "succeeded" }),
        ),
    });
    this.reloads = new PipelineReloads({
      stages: this.stages,
      services: this.services,
      sources: this.sources,
      logger,
      openLinks: (records) => this.openLinks(records),
      restreamDirectPath: () => {
        if (this.directPath.reloaded()) this.restart.reloaded();
      },
      running: () => this.settle !== undefined && !this.stopRequested,
    });
  }

  get plan(): Pipeline {
    return this.stages.plan;
  }

  /**
   * Applies a new version of the pipeline file while the run goes on (see pipeline-reload.ts):
   * unchanged stages keep their services and streams, changed and removed ones are drained and
   * replaced, new ones start; a new file that cannot apply is refused and the run goes on as it was.
   */
  reload(next: Pipeline, describeProblem?: RunnerOptions["describeProblem"]): Promise<ReloadResult> {
    return this.reloads.apply(next, describeProblem);
  }

  get id(): string {
    return this.runId;
  }

  /**
   * Claims the pipeline, starts services, negotiates, moves every event, and resolves with how
   * the run ended. Throws (a UserError) without starting anything when the pipeline is already
   * running elsewhere: startRun claims it atomically.
   */
  async run(): Promise<RunResult> {
    const started = Date.now();
    const { plan, store, logger } = this.options;
    this.runId = await store.startRun(plan.name, plan.file);
    let outcome: Outcome;
    try {
      // A stop while services start or negotiate ends the run there: nothing has moved yet.
      await this.services.start();
      const { limits, directPath } = this.stopRequested
        ? { limits: new Map(), directPath: new Set<string>() }
        : await this.services.negotiate();
      for (const record of this.stages.records.values())
        record.negotiated(limits.get(record.id), directPath.has(record.id));
      this.directPath.started();
      this.deadLetters = new DeadLetterFile(plan.deadLetters.path, plan.name, this.runId);
      outcome = this.stopRequested ? { status: "stopped" } : await this.flow();
    } catch (error) {
      outcome = { status: "failed", error: error as Error };
    }
    for (const stop of this.stopTimers) stop();
    this.sources.cancelCommits();
    this.outage.cancel();
    // Detach every link first, so services stopping now is not taken for a crash to recover from.
    this.abortLinks();
    await this.services.stop();
    try {
      this.deadLetters?.close();
    } catch (error) {
      // The run has failed on it already, or fails now: its last checkpoint predates these letters.
      if (outcome.status !== "failed") outcome = { status: "failed", error: error as Error };
    }
    await this.progress.saveTotals();
    await store.finishRun(this.runId, outcome.status, outcome.error?.message).catch((error: Error) =>
      // The store is away (or another run took the claim): the record stays "running" until it
      // counts as abandoned (its process is gone), which never blocks the next run.
      logger.warn({ store: store.location, err: error.message }, "could not record the end of the run"),
    );
    const deadLetters = this.deadLetters?.count ?? 0;
    const dataPlaneRestarts = this.restart.count;
    logger.info({ runId: this.runId, status: outcome.status, deadLetters, dataPlaneRestarts }, "run ended");
    return {
      runId: this.runId,
      status: outcome.status,
      error: outcome.error,
      stages: this.stages.counters(),
      deadLetters,
      dataPlaneRestarts,
      durationMs: Date.now() - started,
    };
  }

  /** Graceful stop (SIGINT): sources stop, in-flight batches drain, final checkpoints commit. */
  stop(): void {
    if (this.stopRequested) return;
    this.stopRequested = true;
    this.options.logger.info("stopping: draining in-flight batches");
    const drainMs = this.options.drainTimeoutMs ?? 30_000;
    const timeout = setTimeout(() => {
      this.finish({
        status: "stopped",
        error: new Error(`drain timed out after ${drainMs} ms; uncommitted batches will be read again`),
      });
    }, drainMs);
    timeout.unref();
    this.stopTimers.push(() => clearTimeout(timeout));
    this.sources.stop();
  }

  private flow(): Promise<Outcome> {
    const done = new Promise<Outcome>((resolve) => {
      this.settle = resolve;
    });
    this.stages.links = this.openLinks(this.stages.records.values());
    void this.sources.open();
    this.every(this.options.statsIntervalMs ?? 1000, () => void this.progress.report());
    this.stopTimers.push(
      this.services.watchHealth(this.options.healthIntervalMs ?? 5000, (stageId, status) =>
        this.progress.health(stageId, status),
      ),
    );
    this.every(overdueCheckIntervalMs(this.stages.links), () => {
      for (const link of this.stages.links) link.abandonIfOverdue();
    });
    return done;
  }

  private openLinks(records: Iterable<StageRecord>): StageLink[] {
    const { logger, metrics, streams } = this.options;
    return openStageLinks(
      records,
      {
        services: this.services,
        logger,
        metrics,
        processorStreams: streams?.processor,
        consumerStreams: streams?.consumer,
        peers: (record) => this.directPath.peersOf(record),
        pushedTo: (record) => this.directPath.pushedTo(record),
      },
      this.outcomes,
    );
  }

  private fail(error: Error): void {
    if (!this.settle) return;
    this.options.logger.error({ err: error.message }, "run failed");
    this.abortLinks();
    this.finish({ status: "failed", error });
  }

  private abortLinks(): void {
    for (const link of this.stages.links) link.abort();
    this.sources.abort();
  }

  private finish(outcome: Outcome): void {
    const settle = this.settle;
    this.settle = undefined;
    settle?.(outcome);
  }

  private every(ms: number, tick: () => void): void {
    const timer = setInterval(tick, ms);
    this.stopTimers.push(() => clearInterval(timer));
  }
}
