import { EventEmitter } from "node:events";
import { UserError, UserErrors } from "@flow/errors";
import type { FlowEvent } from "@flow/sdk";
import { checkHealth } from "@flow/sdk";
import type { Logger } from "pino";
import { ServiceEndpoint } from "../discovery/service-endpoint";
import { type NegotiationIssue, negotiate } from "../negotiation/negotiate";
import { oversizedEventReason, type StageByteLimit } from "../negotiation/stage-byte-limit";
import type { StateStore } from "../state";
import type { Delivery, Origin } from "./batch-link";
import { ConsumerLink } from "./consumer-link";
import { type DeadLetter, DeadLetterFile } from "./dead-letter-file";
import type { PipelineMetrics } from "./pipeline-metrics";
import { ProcessorLink } from "./processor-link";
import { type BatchLimit, cutRawBatch, decodeEvents, firstEventTime, type RawBatch } from "./raw-batch";
import { childrenOf, type RunPlan, type StagePlan } from "./run-plan";
import { type Checkpointed, SourceLedger } from "./source-ledger";
import { SourceLink } from "./source-link";
import { newCounters, type StageCounters, setInFlight } from "./stage-counters";
import { StoreOutage } from "./store-outage";

/** Consecutive failed health checks after which a spawned service is replaced. */
const UNHEALTHY_AFTER_CHECKS = 3;

export type RunOutcome = "succeeded" | "failed" | "stopped";

export interface RunResult {
  runId: string;
  status: RunOutcome;
  error?: Error;
  stages: StageCounters[];
  deadLetters: number;
  durationMs: number;
}

export interface RunnerOptions {
  plan: RunPlan;
  store: StateStore;
  logger: Logger;
  /** How often stage stats are saved to the state store (and the run heartbeats). */
  statsIntervalMs?: number;
  /** How often services' grpc.health.v1 status is polled. */
  healthIntervalMs?: number;
  /** How long a stop (SIGINT) waits for in-flight batches before giving up on them. */
  drainTimeoutMs?: number;
  /** At most one checkpoint commit per source per this many ms (default 100). */
  commitIntervalMs?: number;
  /** Latency histograms and counters (the CLI serves them). */
  metrics?: PipelineMetrics;
  /** Formats negotiation issues into user errors (the CLI maps config pointers to file:line:col). */
  describeIssue?: (issue: NegotiationIssue) => UserError;
}

interface SourceState {
  stage: StagePlan;
  link: SourceLink;
  ledger: SourceLedger;
  /** Credits granted on the current stream, and batches received on it. */
  granted: number;
  received: number;
  exhausted: boolean;
  /** The stream broke: wait for what is in flight, then reopen from the committed checkpoint. */
  broken: boolean;
  done: boolean;
  committed: Checkpointed | undefined;
  /** The stream sequence of the batch whose checkpoint was committed last (0: none on this stream). */
  committedSequence: bigint;
  /** Credits are held back because the store is unreachable (logged once per outage). */
  pausedForOutage: boolean;
  committing: boolean;
  commitAgain: boolean;
  /** A commit waiting for the commit interval to pass. */
  commitTimer: NodeJS.Timeout | undefined;
  lastCommitAt: number;
  commits: number;
}

/**
 * Runs a pipeline: starts or finds every service, negotiates, then moves batches from sources
 * through processors to consumers. Memory stays bounded because a source only gets a credit for
 * a new batch when one of its batches is acknowledged everywhere downstream; a source checkpoint
 * is committed only when every batch up to it is acknowledged (at-least-once). Crashed services
 * are restarted and their unanswered batches sent again.
 *
 * Events: "progress" (StageCounters[]) on every stats interval; "restarted" (stageId, count, reason).
 */
export class PipelineRunner extends EventEmitter {
  readonly endpoints = new Map<string, ServiceEndpoint>();
  readonly counters = new Map<string, StageCounters>();
  private readonly sources = new Map<string, SourceState>();
  private readonly processors = new Map<string, ProcessorLink>();
  private readonly consumers = new Map<string, ConsumerLink>();
  private deadLetters: DeadLetterFile | undefined;
  private runId = "";
  private stopRequested = false;
  private settle: ((outcome: { status: RunOutcome; error?: Error }) => void) | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly healthFailures = new Map<string, number>();
  /** at-most-once: batches count as delivered once handed on; no ledger, no checkpoints (see the schema). */
  private readonly atMostOnce: boolean;
  /** Each stage's children, computed once: delivery is on the hot path. */
  private readonly children = new Map<string, StagePlan[]>();
  /** Each stage's negotiated byte limit: what its batches are cut to. */
  private limits = new Map<string, StageByteLimit>();
  /** Store calls that wait out an unreachable state store (up to state.unreachableLimitMs). */
  private readonly outage: StoreOutage;

  constructor(private readonly options: RunnerOptions) {
    super();
    this.atMostOnce = options.plan.delivery === "at-most-once";
    for (const stage of options.plan.stages) {
      this.counters.set(stage.id, newCounters(stage.id, stage.family));
      this.children.set(stage.id, childrenOf(options.plan, stage.id));
    }
    this.outage = new StoreOutage({
      location: options.store.location,
      limitMs: options.plan.stateUnreachableLimitMs,
      logger: options.logger,
      // Credits held back while commits could not be made flow again.
      onRecovered: () => {
        for (const source of this.sources.values()) {
          source.pausedForOutage = false;
          this.grantCredits(source);
        }
      },
    });
  }

  get plan(): RunPlan {
    return this.options.plan;
  }

  /** Starts every stage's service (spawned ones in parallel); throws when any cannot start. */
  async startServices(): Promise<void> {
    const { plan, store, logger } = this.options;
    const lookupRegistry = async (name: string) =>
      (await store.listServices(name)).map((service) => service.address);
    for (const stage of plan.stages) {
      const endpoint = new ServiceEndpoint({
        stageId: stage.id,
        locator: stage.locator,
        baseDir: plan.baseDir,
        handshakeTimeoutMs: stage.settings.timeouts.handshakeMs,
        restart: stage.settings.restart,
        logger,
        lookupRegistry,
      });
      endpoint.on("restarted", (count: number, reason: string) => {
        const counters = this.counters.get(stage.id);
        if (counters) counters.restarts = count;
        logger.warn({ stage: stage.id, restarts: count, reason }, "service restarted");
        this.emit("restarted", stage.id, count, reason);
      });
      this.endpoints.set(stage.id, endpoint);
    }
    const started = await Promise.allSettled(
      [...this.endpoints.values()].map((endpoint) => endpoint.start()),
    );
    const failures = started.flatMap((result) =>
      result.status === "rejected" ? [result.reason as Error] : [],
    );
    if (failures.length > 0) {
      await this.stopServices();
      throw failures.length === 1
        ? failures[0]
        : new UserErrors(failures.map(asUserError), `${failures.length} services could not start`);
    }
  }

  /** Negotiation: describe, contract and event-type checks, validate-only configs. Throws every error at once. */
  async negotiate(): Promise<NegotiationIssue[]> {
    const { issues, limits } = await negotiate(this.plan, this.endpoints);
    this.limits = limits;
    const errors = issues.filter((issue) => issue.severity === "error");
    if (errors.length > 0) {
      const describe =
        this.options.describeIssue ??
        ((issue: NegotiationIssue) =>
          new UserError(
            `stage "${issue.stageId}": ${issue.pointer ? `config ${issue.pointer}: ` : ""}${issue.message}`,
          ));
      throw new UserErrors(
        errors.map(describe),
        `${errors.length} problem(s) found while negotiating with the services`,
      );
    }
    return issues;
  }

  /**
   * Starts services, negotiates, moves every event, and resolves with how the run ended. Throws
   * (a UserError) without starting anything when the pipeline is already running elsewhere.
   */
  async run(): Promise<RunResult> {
    const started = Date.now();
    const { plan, store, logger } = this.options;
    // Two runs of one pipeline would commit the same sources' checkpoints over each other: startRun
    // claims the pipeline atomically and throws RunAlreadyLiveError (a UserError) to the loser.
    this.runId = await store.startRun(plan.name, plan.file);
    let outcome: { status: RunOutcome; error?: Error };
    try {
      await this.startServices();
      await this.negotiate();
      this.deadLetters = new DeadLetterFile(plan.deadLetters.path, plan.name, this.runId);
      outcome = await this.flow();
    } catch (error) {
      outcome = { status: "failed", error: error as Error };
    }
    for (const timer of this.timers) clearInterval(timer);
    for (const state of this.sources.values()) clearTimeout(state.commitTimer);
    this.outage.cancel();
    // Detach every link first, so services stopping now is not taken for a crash to recover from.
    this.abortLinks();
    await this.stopServices();
    try {
      this.deadLetters?.close();
    } catch (error) {
      // The run has failed on it already, or fails now: its last checkpoint predates these letters.
      if (outcome.status !== "failed") outcome = { status: "failed", error: error as Error };
    }
    await store.saveStageStats(this.runId, this.storedStats()).catch(() => undefined);
    await store.finishRun(this.runId, outcome.status, outcome.error?.message).catch((error: Error) =>
      // The store is away (or took the claim): the record stays "running" until it counts as
      // abandoned (its process is gone), which never blocks the next run.
      logger.warn({ store: store.location, err: error.message }, "could not record the end of the run"),
    );
    logger.info(
      { runId: this.runId, status: outcome.status, deadLetters: this.deadLetters?.count ?? 0 },
      "run ended",
    );
    return {
      runId: this.runId,
      status: outcome.status,
      error: outcome.error,
      stages: [...this.counters.values()],
      deadLetters: this.deadLetters?.count ?? 0,
      durationMs: Date.now() - started,
    };
  }

  /** Graceful stop (SIGINT): sources stop, in-flight batches drain, final checkpoints commit. */
  stop(): void {
    if (this.stopRequested) return;
    this.stopRequested = true;
    this.options.logger.info("stopping: draining in-flight batches");
    for (const source of this.sources.values()) {
      if (!source.done) void source.link.close();
    }
    const timeout = setTimeout(() => {
      this.finish({
        status: "stopped",
        error: new Error(
          `drain timed out after ${this.drainTimeoutMs} ms; uncommitted batches will be read again`,
        ),
      });
    }, this.drainTimeoutMs);
    timeout.unref();
    this.timers.push(timeout);
    for (const source of this.sources.values()) this.checkSourceDone(source);
    this.checkDone();
  }

  get id(): string {
    return this.runId;
  }

  private get drainTimeoutMs(): number {
    return this.options.drainTimeoutMs ?? 30_000;
  }

  private flow(): Promise<{ status: RunOutcome; error?: Error }> {
    const done = new Promise<{ status: RunOutcome; error?: Error }>((resolve) => {
      this.settle = resolve;
    });
    const { plan, logger } = this.options;
    const metrics = this.options.metrics;
    const hooks = (stage: StagePlan) => ({
      onFatal: (error: Error) => this.fail(error),
      onGiveUp: (delivery: Delivery, reason: string) => this.giveUp(stage, delivery, reason),
      onAnswered: metrics
        ? (seconds: number) => metrics.observeBatch(stage.id, stage.family, seconds)
        : undefined,
      onSent: () => {
        (this.counters.get(stage.id) as StageCounters).batchesIn += 1;
      },
    });
    for (const stage of plan.stages) {
      const endpoint = this.endpoints.get(stage.id) as ServiceEndpoint;
      if (stage.family === "processor") {
        const link = new ProcessorLink(
          stage,
          endpoint,
          {
            ...hooks(stage),
            onOutput: (origins, events, letters) => this.processed(stage, origins, events, letters),
          },
          logger,
          this.batchLimit(stage),
        );
        this.processors.set(stage.id, link);
        link.open();
      } else if (stage.family === "consumer") {
        const link = new ConsumerLink(
          stage,
          endpoint,
          { ...hooks(stage), onWritten: (origins, batch) => this.written(stage, origins, batch) },
          logger,
          this.batchLimit(stage),
        );
        this.consumers.set(stage.id, link);
        link.open();
      }
    }
    void this.openSources();
    this.timers.push(setInterval(() => void this.saveStats(), this.options.statsIntervalMs ?? 1000));
    this.timers.push(setInterval(() => void this.pollHealth(), this.options.healthIntervalMs ?? 5000));
    const links = [...this.processors.values(), ...this.consumers.values()];
    const shortestAckMs = Math.min(
      ...links.map((link) => link.stage.settings.timeouts.ackMs).filter((ms) => ms > 0),
    );
    this.timers.push(
      setInterval(
        () => {
          for (const link of links) link.abandonIfOverdue();
        },
        Math.max(50, Math.min(1000, shortestAckMs / 2)),
      ),
    );
    return done;
  }

  private async openSources(): Promise<void> {
    try {
      await this.openEachSource();
    } catch (error) {
      this.fail(
        error instanceof UserError
          ? error
          : new UserError(`cannot read the sources' checkpoints: ${(error as Error).message}`),
      );
    }
  }

  private async openEachSource(): Promise<void> {
    const { plan, store } = this.options;
    for (const stage of plan.stages.filter((s) => s.family === "source")) {
      const stored = await this.outage.retry(`read the checkpoint of "${stage.id}"`, () =>
        store.getCheckpoint(plan.name, stage.id),
      );
      if (!this.settle) return;
      const committed = stored
        ? { position: Buffer.from(stored.position), description: stored.description }
        : undefined;
      const endpoint = this.endpoints.get(stage.id) as ServiceEndpoint;
      const state: SourceState = {
        stage,
        ledger: new SourceLedger(),
        granted: stage.settings.inFlight,
        received: 0,
        exhausted: false,
        broken: false,
        done: false,
        committed,
        committedSequence: 0n,
        pausedForOutage: false,
        committing: false,
        commitAgain: false,
        commitTimer: undefined,
        lastCommitAt: 0,
        commits: 0,
        link: new SourceLink(
          stage,
          endpoint,
          {
            onBatch: (sequence, batch, checkpoint) => this.sourced(state, sequence, batch, checkpoint),
            onExhausted: () => {
              state.exhausted = true;
              this.checkSourceDone(state);
            },
            onBroken: (reason) => this.sourceBroken(state, reason),
          },
          this.options.logger,
          this.batchLimit(stage).maxBytes,
        ),
      };
      this.sources.set(stage.id, state);
      if (this.stopRequested) {
        state.done = true;
        continue;
      }
      this.options.logger.info(
        { stage: stage.id, resume: committed?.description || "from the start" },
        "source starts",
      );
      state.link.open(committed, stage.settings.inFlight);
    }
    this.checkDone();
  }

  private sourced(state: SourceState, sequence: bigint, batch: RawBatch, checkpoint: Checkpointed): void {
    state.received += 1;
    if (!this.atMostOnce) state.ledger.opened(sequence, checkpoint, batch.count);
    const counters = this.counters.get(state.stage.id) as StageCounters;
    counters.eventsOut += batch.count;
    counters.batchesIn += 1;
    setInFlight(counters, state.ledger.inFlight);
    this.deliver([{ source: state.stage.id, sequence }], state.stage.id, batch);
    if (this.atMostOnce) this.grantCredits(state);
  }

  /** The largest batch a stage takes: its batch.maxSize and its negotiated byte limit. */
  private batchLimit(stage: StagePlan): BatchLimit {
    return {
      maxEvents: stage.settings.batch.maxSize,
      maxBytes: this.limits.get(stage.id)?.batchBytes ?? stage.settings.batch.maxBytes,
    };
  }

  /**
   * Sends `batch` (descended from `origins`) from `fromStage` to each of its children, as bytes,
   * cut to each child's limit. An event no batch of a child can carry is dead-lettered for that
   * child, with its size and the limit; the events around it go on.
   */
  private deliver(origins: Origin[], fromStage: string, batch: RawBatch): void {
    const children = this.children.get(fromStage) ?? [];
    if (batch.count === 0 || children.length === 0) {
      for (const origin of origins) this.closeDelivery(origin);
      return;
    }
    const cuts = children.map((child) => cutRawBatch(batch, this.batchLimit(child)));
    if (!this.atMostOnce) {
      // One delivery per part and per oversized event (closed once its dead letter is written).
      const deliveries = cuts.reduce((sum, cut) => sum + cut.parts.length + cut.oversized.length, 0);
      for (const origin of origins)
        this.sources.get(origin.source)?.ledger.split(origin.sequence, deliveries);
    }
    for (const [index, child] of children.entries()) {
      const cut = cuts[index] as (typeof cuts)[number];
      const counters = this.counters.get(child.id) as StageCounters;
      for (const part of cut.parts) {
        counters.eventsIn += part.count;
        if (child.family === "processor") this.processors.get(child.id)?.send(origins, part);
        else this.consumers.get(child.id)?.send(origins, part);
      }
      for (const event of cut.oversized) {
        const limit = this.limits.get(child.id) as StageByteLimit;
        this.giveUp(
          child,
          { origins, batch: event.batch, attempts: 0, sentAt: Date.now() },
          oversizedEventReason(child, event.bytes, limit),
        );
      }
    }
  }

  private processed(
    stage: StagePlan,
    origins: Origin[],
    batch: RawBatch,
    letters: { event: FlowEvent; reason: string }[],
  ): void {
    const counters = this.counters.get(stage.id) as StageCounters;
    counters.eventsOut += batch.count;
    if (letters.length > 0) {
      const written = this.writeDeadLetters(
        letters.map((letter) => ({ stage: stage.id, reason: letter.reason, event: letter.event })),
      );
      // Not written: the batch stays unanswered, so its checkpoint is never committed.
      if (!written) return;
      counters.deadLetters += letters.length;
    }
    this.deliver(origins, stage.id, batch);
  }

  private written(stage: StagePlan, origins: Origin[], batch: RawBatch): void {
    (this.counters.get(stage.id) as StageCounters).eventsOut += batch.count;
    const time = this.options.metrics ? firstEventTime(batch) : undefined;
    if (time) {
      const createdMs = Number(time.seconds) * 1000 + time.nanos / 1e6;
      this.options.metrics?.observeEventLatency(stage.id, (Date.now() - createdMs) / 1000);
    }
    for (const origin of origins) this.closeDelivery(origin);
  }

  private giveUp(stage: StagePlan, delivery: Delivery, reason: string): void {
    const counters = this.counters.get(stage.id) as StageCounters;
    counters.errors += 1;
    this.options.logger.warn(
      { stage: stage.id, events: delivery.batch.count, reason },
      "batch dead-lettered",
    );
    const written = this.writeDeadLetters(
      decodeEvents(delivery.batch).map((event) => ({ stage: stage.id, reason, event })),
    );
    if (!written) return;
    counters.deadLetters += delivery.batch.count;
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
    const state = this.sources.get(origin.source);
    if (!state) return;
    if (this.atMostOnce) {
      // Nothing to account for: what was handed on counts as delivered. Room may have opened up.
      for (const source of this.sources.values()) {
        this.grantCredits(source);
        this.checkSourceDone(source);
      }
      return;
    }
    state.ledger.close(origin.sequence);
    setInFlight(this.counters.get(state.stage.id) as StageCounters, state.ledger.inFlight);
    this.scheduleCommit(state);
    this.grantCredits(state);
    this.checkSourceDone(state);
  }

  /** Keeps the source's unacknowledged batches (sent + promised) within its in-flight limit. */
  private grantCredits(state: SourceState): void {
    if (state.done || state.broken || state.exhausted || this.stopRequested) return;
    const outstanding = state.granted - state.received;
    // at-least-once: a credit per batch acknowledged everywhere. at-most-once: credits while every
    // link downstream has room (fewer than inFlight unanswered batches), so memory stays bounded.
    const held = this.atMostOnce ? this.busiestLinkPending() : this.unsettled(state);
    const available = state.stage.settings.inFlight - held - outstanding;
    if (available > 0) {
      state.granted += available;
      state.link.grant(available);
    } else if (this.outage.down && !state.pausedForOutage) {
      state.pausedForOutage = true;
      this.options.logger.warn(
        { stage: state.stage.id, uncommitted: held },
        "source paused: its uncommitted window is full while the state store is unreachable",
      );
    }
  }

  /**
   * The batches that count against a source's credits: those not yet acknowledged everywhere and,
   * while the state store is unreachable, also those acknowledged but not yet committed, so the
   * window of what a crash would re-read stops growing until the store is back.
   */
  private unsettled(state: SourceState): number {
    if (!this.outage.down) return state.ledger.inFlight;
    return Number(state.ledger.lastSequence - state.committedSequence);
  }

  private busiestLinkPending(): number {
    let most = 0;
    for (const link of this.processors.values()) most = Math.max(most, link.held);
    for (const link of this.consumers.values()) most = Math.max(most, link.held);
    return most;
  }

  /**
   * Commits at most once per commit interval per source: at small batch sizes a commit per
   * acknowledged batch would make the state store the bottleneck. Waiting only delays when a
   * position becomes durable (a crash re-reads a little more); it never commits early.
   */
  private scheduleCommit(state: SourceState): void {
    if (state.commitTimer) return;
    const wait = state.lastCommitAt + this.commitIntervalMs - Date.now();
    if (wait <= 0 || this.isDraining(state)) {
      void this.commit(state);
      return;
    }
    state.commitTimer = setTimeout(() => {
      state.commitTimer = undefined;
      void this.commit(state);
    }, wait);
  }

  private get commitIntervalMs(): number {
    return this.options.commitIntervalMs ?? 100;
  }

  /** Nothing more will arrive from this source: commit without waiting. */
  private isDraining(state: SourceState): boolean {
    return state.ledger.inFlight === 0 && (state.exhausted || this.stopRequested);
  }

  /**
   * Commits the newest committable checkpoint; commits never overlap, the latest one wins. While
   * the store is unreachable the commit is retried (StoreOutage), taking up any newer checkpoint
   * that settled meanwhile; each attempt has a sequence of its own, so an attempt that reached the
   * store before the connection broke can never make the next one look stale.
   */
  private async commit(state: SourceState): Promise<void> {
    if (state.committing) {
      state.commitAgain = true;
      return;
    }
    state.committing = true;
    state.lastCommitAt = Date.now();
    try {
      for (;;) {
        state.commitAgain = false;
        let next = state.ledger.takeCommittable();
        if (!next) break;
        const committed = await this.outage.retry(
          `commit the checkpoint of "${state.stage.id}"`,
          async () => {
            const newest = state.ledger.takeCommittable() ?? (next as NonNullable<typeof next>);
            next = newest;
            // Every dead letter the checkpoint covers is on disk first.
            this.deadLetters?.sync();
            state.commits += 1;
            await this.options.store.commitCheckpoint({
              pipeline: this.plan.name,
              sourceId: state.stage.id,
              position: newest.checkpoint.position,
              description: newest.checkpoint.description,
              runId: this.runId,
              sequence: state.commits,
            });
            return newest;
          },
        );
        state.committed = committed.checkpoint;
        state.committedSequence = committed.sequence;
        state.link.commit(committed.sequence, committed.checkpoint);
        if (!state.commitAgain) break;
      }
    } catch (error) {
      this.fail(
        error instanceof UserError
          ? error
          : new UserError(`cannot commit the checkpoint of "${state.stage.id}": ${(error as Error).message}`),
      );
    } finally {
      state.committing = false;
    }
    this.grantCredits(state);
    this.checkSourceDone(state);
  }

  private sourceBroken(state: SourceState, reason: string): void {
    if (state.done) return;
    if (this.stopRequested || state.exhausted) {
      this.checkSourceDone(state);
      return;
    }
    if (this.atMostOnce) {
      this.fail(
        new UserError(
          `source "${state.stage.id}" failed (${reason}); at-most-once delivery keeps no checkpoint to resume from`,
        ),
      );
      return;
    }
    state.broken = true;
    (this.counters.get(state.stage.id) as StageCounters).errors += 1;
    this.options.logger.warn(
      { stage: state.stage.id, reason, inFlight: state.ledger.inFlight },
      "source stream broke; recovering after in-flight batches settle",
    );
    const endpoint = this.endpoints.get(state.stage.id) as ServiceEndpoint;
    endpoint
      .recover(reason)
      .then(() => this.whenDrained(state))
      .then(() => {
        if (this.stopRequested || state.done) return;
        state.ledger = new SourceLedger();
        state.committedSequence = 0n;
        state.granted = state.stage.settings.inFlight;
        state.received = 0;
        state.broken = false;
        state.link.open(state.committed, state.stage.settings.inFlight);
      })
      .catch((error: Error) => this.fail(error));
  }

  private async whenDrained(state: SourceState): Promise<void> {
    while (state.ledger.inFlight > 0 || state.committing || state.commitTimer) {
      await new Promise((resolve) => this.once("settled", resolve));
    }
  }

  private checkSourceDone(state: SourceState): void {
    this.emit("settled");
    if (state.commitTimer && this.isDraining(state)) {
      clearTimeout(state.commitTimer);
      state.commitTimer = undefined;
      void this.commit(state);
      return;
    }
    const holding = this.atMostOnce ? this.busiestLinkPending() > 0 : state.ledger.inFlight > 0;
    if (state.done || holding || state.committing || state.commitTimer) return;
    if (state.exhausted || this.stopRequested) {
      state.done = true;
      void state.link.close();
      this.checkDone();
    }
  }

  private checkDone(): void {
    if (this.sources.size < this.plan.stages.filter((s) => s.family === "source").length) return;
    if ([...this.sources.values()].every((state) => state.done)) {
      void this.closeLinks().then(() =>
        this.finish({ status: this.stopRequested ? "stopped" : "succeeded" }),
      );
    }
  }

  /**
   * Every batch is answered (or dead-lettered) when sources are done, so closing is quick; a
   * service that still holds its stream open (hung in a write) is cut off after the longest ack
   * timeout rather than hanging the run.
   */
  private async closeLinks(): Promise<void> {
    const links = [...this.processors.values(), ...this.consumers.values()];
    const limit = Math.max(1000, ...links.map((link) => link.stage.settings.timeouts.ackMs));
    let timer: NodeJS.Timeout | undefined;
    const cutOff = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        for (const link of links) link.abort();
        resolve();
      }, limit);
    });
    await Promise.race([Promise.all(links.map((link) => link.close())), cutOff]);
    clearTimeout(timer);
  }

  private fail(error: Error): void {
    if (!this.settle) return;
    this.options.logger.error({ err: error.message }, "run failed");
    this.abortLinks();
    this.finish({ status: "failed", error });
  }

  private abortLinks(): void {
    for (const link of [...this.processors.values(), ...this.consumers.values()]) link.abort();
    for (const state of this.sources.values()) state.link.abort();
  }

  private finish(outcome: { status: RunOutcome; error?: Error }): void {
    const settle = this.settle;
    this.settle = undefined;
    settle?.(outcome);
  }

  private async stopServices(): Promise<void> {
    await Promise.all([...this.endpoints.values()].map((endpoint) => endpoint.stop()));
  }

  private storedStats() {
    return [...this.counters.values()].map((c) => ({
      stageId: c.stageId,
      eventsIn: c.eventsIn,
      eventsOut: c.eventsOut,
      deadLetters: c.deadLetters,
      restarts: c.restarts,
      errors: c.errors,
      health:
        c.health === "serving"
          ? ("serving" as const)
          : c.health === "not_serving"
            ? ("not_serving" as const)
            : ("unknown" as const),
    }));
  }

  private async saveStats(): Promise<void> {
    for (const [id, link] of [...this.processors, ...this.consumers])
      setInFlight(this.counters.get(id) as StageCounters, link.inFlight);
    this.emit("progress", [...this.counters.values()]);
    if (this.runId)
      await this.options.store.saveStageStats(this.runId, this.storedStats()).catch(() => undefined);
  }

  private async pollHealth(): Promise<void> {
    await Promise.all(
      [...this.endpoints].map(async ([id, endpoint]) => {
        const stage = this.plan.stages.find((s) => s.id === id) as StagePlan;
        const status = await checkHealth(endpoint.target, stage.settings.timeouts.callMs);
        (this.counters.get(id) as StageCounters).health = status;
        const failures = status === "serving" ? 0 : (this.healthFailures.get(id) ?? 0) + 1;
        this.healthFailures.set(id, failures);
        if (failures === UNHEALTHY_AFTER_CHECKS) {
          const replaced = await endpoint.replaceUnhealthy();
          this.options.logger.warn(
            { stage: id, status, action: replaced ? "killed for restart" : "waiting" },
            "service is not serving",
          );
        }
      }),
    );
  }
}

function asUserError(error: Error): UserError {
  return error instanceof UserError ? error : new UserError(error.message);
}
