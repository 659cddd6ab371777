import { EventEmitter } from "node:events";
import type { FlowEvent } from "@flow/sdk";
import type { Pipeline } from "../config/pipeline-model";
import { ClaimLostError } from "../state";
import type { Delivery, Origin } from "./batch-link";
import { type DeadLetter, DeadLetterFile } from "./dead-letter-file";
import { atLeastOnce, atMostOnce, type DeliveryPolicy } from "./delivery-policy";
import { pipelineChanges } from "./pipeline-changes";
import { type ReloadResult, reloadPipeline } from "./pipeline-reload";
import { decodeEvents, firstEventTime, type RawBatch } from "./raw-batch";
import { Router } from "./router";
import type { RunnerOptions, RunOutcome, RunResult } from "./runner-options";
import { SourceDriver } from "./source-driver";
import type { SourceNode } from "./source-node";
import { type StageCounters, setInFlight, storedStageStats } from "./stage-counters";
import { closeStageLinks, openStageLinks, overdueCheckIntervalMs, type StageLink } from "./stage-links";
import { StageRecord } from "./stage-record";
import { type RunServices, StageServices } from "./stage-services";
import { StoreOutage } from "./store-outage";

export type { ReloadResult } from "./pipeline-reload";
export type { RunnerOptions, RunOutcome, RunResult, RunStreams } from "./runner-options";

type Outcome = { status: RunOutcome; error?: Error };

/**
 * Runs a pipeline: claims it, has its services started and negotiated (StageServices), then
 * moves batches from sources (SourceDriver) through processors to consumers (Router, links),
 * with the delivery guarantee's accounting (DeliveryPolicy) and per-source commits; it keeps
 * run, stop and finish. Memory stays bounded because a source only gets a credit when one of
 * its batches is acknowledged everywhere downstream.
 *
 * Events: "progress" (StageCounters[]) on every stats interval; "restarted" (stageId, count, reason).
 */
export class PipelineRunner extends EventEmitter {
  private readonly records = new Map<string, StageRecord>();
  private readonly services: RunServices;
  private readonly policy: DeliveryPolicy;
  private readonly router: Router;
  private readonly sources: SourceDriver;
  private readonly outage: StoreOutage;
  private deadLetters: DeadLetterFile | undefined;
  private runId = "";
  private stopRequested = false;
  private settle: ((outcome: Outcome) => void) | undefined;
  private readonly stopTimers: (() => void)[] = [];
  private links: StageLink[] = [];
  /** The pipeline as it runs now: a reload replaces it. */
  private current: Pipeline;
  /** Reloads apply one at a time, in the order asked. */
  private reloading: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: RunnerOptions) {
    super();
    const { plan, store, logger } = options;
    this.current = plan;
    this.services =
      options.services ??
      new StageServices({
        plan,
        logger,
        describeProblem: options.describeProblem,
        lookupRegistry: async (name) => (await store.listServices(name)).map((service) => service.address),
      });
    this.services.on("restarted", (stageId: string, count: number, reason: string) => {
      const record = this.records.get(stageId);
      if (record) record.counters.restarts = count;
      this.emit("restarted", stageId, count, reason);
    });
    for (const stage of plan.stages) this.records.set(stage.id, new StageRecord(stage));
    for (const record of this.records.values())
      record.outputs = record.stage.outputs.map((id) => this.records.get(id) as StageRecord);
    this.outage = new StoreOutage({
      location: store.location,
      limitMs: plan.stateUnreachableLimitMs,
      logger,
      onRecovered: () => this.sources.storeRecovered(),
    });
    const sourceNodes = new Map<string, SourceNode>();
    this.policy =
      plan.delivery === "at-most-once"
        ? atMostOnce(sourceNodes, () => this.busiestLinkHeld())
        : atLeastOnce(sourceNodes);
    this.sources = new SourceDriver({
      plan: () => this.current,
      store,
      logger,
      outage: this.outage,
      services: this.services,
      records: this.records,
      commitIntervalMs: options.commitIntervalMs ?? 100,
      openStream: options.streams?.source,
      runId: () => this.runId,
      nodes: sourceNodes,
      policy: this.policy,
      syncDeadLetters: () => this.deadLetters?.sync(),
      onBatch: (source, sequence, batch, checkpoint) => {
        this.policy.opened(source, sequence, batch, checkpoint);
        const record = this.records.get(source.id) as StageRecord;
        record.counters.eventsOut += batch.count;
        record.counters.batchesIn += 1;
        setInFlight(record.counters, source.ledger.inFlight);
        this.router.deliver([{ source: source.id, sequence }], record, batch);
      },
      stopping: () => this.stopRequested,
      running: () => this.settle !== undefined,
      onFailed: (error) => this.fail(error),
      onAllDone: () =>
        void closeStageLinks(this.links).then(() =>
          this.finish({ status: this.stopRequested ? "stopped" : "succeeded" }),
        ),
    });
    this.router = new Router(this.policy, {
      closed: (origin) => this.closeDelivery(origin),
      oversized: (to, delivery, reason) => this.giveUp(to, delivery, reason),
    });
  }

  get plan(): Pipeline {
    return this.current;
  }

  /**
   * Applies a new version of the pipeline file while the run goes on (see pipeline-reload.ts):
   * unchanged stages keep their services and streams, changed and removed ones are drained and
   * replaced, new ones start; a new file that cannot apply is refused and the run goes on as it was.
   */
  reload(next: Pipeline, describeProblem?: RunnerOptions["describeProblem"]): Promise<ReloadResult> {
    const result = this.reloading.then(async (): Promise<ReloadResult> => {
      if (!this.settle || this.stopRequested) {
        return {
          applied: false,
          changes: pipelineChanges(this.current, next),
          error: new Error("the pipeline is not running (it is starting or stopping)"),
        };
      }
      return reloadPipeline(
        {
          plan: () => this.current,
          replacePlan: (plan) => {
            this.current = plan;
          },
          records: this.records,
          services: this.services,
          sources: this.sources,
          links: () => this.links,
          replaceLinks: (links) => {
            this.links = links;
          },
          logger: this.options.logger,
          openLinks: (records) => this.openLinks(records),
          running: () => this.settle !== undefined && !this.stopRequested,
        },
        next,
        describeProblem,
      );
    });
    this.reloading = result.catch(() => undefined);
    return result;
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
      const { limits } = this.stopRequested ? { limits: new Map() } : await this.services.negotiate();
      for (const record of this.records.values()) record.negotiated(limits.get(record.id));
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
    await store.saveStageStats(this.runId, storedStageStats(this.counters())).catch(() => undefined);
    await store.finishRun(this.runId, outcome.status, outcome.error?.message).catch((error: Error) =>
      // The store is away (or another run took the claim): the record stays "running" until it
      // counts as abandoned (its process is gone), which never blocks the next run.
      logger.warn({ store: store.location, err: error.message }, "could not record the end of the run"),
    );
    const deadLetters = this.deadLetters?.count ?? 0;
    logger.info({ runId: this.runId, status: outcome.status, deadLetters }, "run ended");
    return {
      runId: this.runId,
      status: outcome.status,
      error: outcome.error,
      stages: this.counters(),
      deadLetters,
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
    this.links = this.openLinks(this.records.values());
    void this.sources.open();
    this.every(this.options.statsIntervalMs ?? 1000, () => void this.saveStats());
    this.stopTimers.push(
      this.services.watchHealth(this.options.healthIntervalMs ?? 5000, (stageId, status) => {
        const record = this.records.get(stageId);
        if (record) record.counters.health = status;
      }),
    );
    this.every(overdueCheckIntervalMs(this.links), () => {
      for (const link of this.links) link.abandonIfOverdue();
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
      },
      {
        processed: (record, origins, batch, letters) => this.processed(record, origins, batch, letters),
        written: (record, origins, batch) => this.written(record, origins, batch),
        giveUp: (record, delivery, reason) => this.giveUp(record, delivery, reason),
        fatal: (error) => this.fail(error),
      },
    );
  }

  private processed(
    record: StageRecord,
    origins: Origin[],
    batch: RawBatch,
    letters: { event: FlowEvent; reason: string }[],
  ): void {
    record.counters.eventsOut += batch.count;
    if (letters.length > 0) {
      const written = this.writeDeadLetters(
        letters.map((letter) => ({ stage: record.id, reason: letter.reason, event: letter.event })),
      );
      // Not written: the batch stays unanswered, so its checkpoint is never committed.
      if (!written) return;
      record.counters.deadLetters += letters.length;
    }
    this.router.deliver(origins, record, batch);
  }

  private written(record: StageRecord, origins: Origin[], batch: RawBatch): void {
    record.counters.eventsOut += batch.count;
    const time = this.options.metrics ? firstEventTime(batch) : undefined;
    if (time) {
      const createdMs = Number(time.seconds) * 1000 + time.nanos / 1e6;
      this.options.metrics?.observeEventLatency(record.id, (Date.now() - createdMs) / 1000);
    }
    for (const origin of origins) this.closeDelivery(origin);
  }

  private giveUp(record: StageRecord, delivery: Delivery, reason: string): void {
    record.counters.errors += 1;
    this.options.logger.warn(
      { stage: record.id, events: delivery.batch.count, reason },
      "batch dead-lettered",
    );
    const written = this.writeDeadLetters(
      decodeEvents(delivery.batch).map((event) => ({ stage: record.id, reason, event })),
    );
    if (!written) return;
    record.counters.deadLetters += delivery.batch.count;
    for (const origin of delivery.origins) this.closeDelivery(origin);
  }

  /**
   * Writes dead letters, or fails the run when they cannot be written (a full disk): an event is
   * never counted as handled unless it was delivered or its dead letter is on disk.
   */
  private writeDeadLetters(letters: DeadLetter[]): boolean {
    try {
      this.deadLetters?.write(letters);
      return true;
    } catch (error) {
      this.fail(error as Error);
      return false;
    }
  }

  private closeDelivery(origin: Origin): void {
    for (const source of this.policy.closed(origin)) this.sources.settled(source);
  }

  private fail(error: Error): void {
    if (!this.settle) return;
    this.options.logger.error({ err: error.message }, "run failed");
    this.abortLinks();
    this.finish({ status: "failed", error });
  }

  private abortLinks(): void {
    for (const link of this.links) link.abort();
    this.sources.abort();
  }

  private finish(outcome: Outcome): void {
    const settle = this.settle;
    this.settle = undefined;
    settle?.(outcome);
  }

  /** at-most-once credits: the most batches any link holds (no array built: it runs per batch). */
  private busiestLinkHeld(): number {
    let most = 0;
    for (const link of this.links) most = Math.max(most, link.held);
    return most;
  }

  private counters(): StageCounters[] {
    return [...this.records.values()].map((record) => record.counters);
  }

  private every(ms: number, tick: () => void): void {
    const timer = setInterval(tick, ms);
    this.stopTimers.push(() => clearInterval(timer));
  }

  private async saveStats(): Promise<void> {
    for (const record of this.records.values())
      if (record.link) setInFlight(record.counters, record.link.inFlight);
    this.emit("progress", this.counters());
    if (!this.runId) return;
    await this.options.store.saveStageStats(this.runId, storedStageStats(this.counters())).catch((error) => {
      // Another run took the pipeline over (this one looked dead): stop at once, commit nothing more.
      // Any other failure only loses a progress snapshot (an outage is waited out by the commits).
      if (error instanceof ClaimLostError) this.fail(error);
    });
  }
}
