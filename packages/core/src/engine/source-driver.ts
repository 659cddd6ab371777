import { EventEmitter, once } from "node:events";
import { UserError } from "@flow/errors";
import type { Logger } from "pino";
import type { Pipeline } from "../config/pipeline-model";
import type { StateStore } from "../state";
import type { DeliveryPolicy } from "./delivery-policy";
import type { RawBatch } from "./raw-batch";
import { SourceCommits } from "./source-commits";
import type { Checkpointed } from "./source-ledger";
import { SourceLink, type SourceLinkParts, sourceStreams } from "./source-link";
import { SourceNode } from "./source-node";
import { setInFlight } from "./stage-counters";
import type { StageRecord } from "./stage-record";
import type { RunServices } from "./stage-services";
import type { StoreOutage } from "./store-outage";

export interface SourceDriverOptions {
  /** The pipeline as it runs now (a reload changes it). */
  plan: () => Pipeline;
  store: Pick<StateStore, "getCheckpoint" | "commitCheckpoint">;
  logger: Logger;
  outage: StoreOutage;
  services: Pick<RunServices, "endpoint">;
  records: ReadonlyMap<string, StageRecord>;
  commitIntervalMs: number;
  openStream?: SourceLinkParts["openStream"];
  runId: () => string;
  /** The run's sources, by stage id (the delivery policy reads the same map). */
  nodes: Map<string, SourceNode>;
  /** The delivery guarantee: what holds a source's credits, whether it keeps checkpoints. */
  policy: DeliveryPolicy;
  syncDeadLetters: () => void;
  onBatch: (source: SourceNode, sequence: bigint, batch: RawBatch, checkpoint: Checkpointed) => void;
  /** The run was asked to stop (sources must not be reopened nor given credits). */
  stopping: () => boolean;
  /** The run has not ended (a failure ends it: nothing is opened after that). */
  running: () => boolean;
  onFailed: (error: Error) => void;
  /** Every source is done: exhausted or stopped, nothing in flight, its last checkpoint committed. */
  onAllDone: () => void;
}

/**
 * The sources of a run: opens each from its committed checkpoint, gives credits, commits, and
 * takes a broken stream through recovery (the service restarted, what was in flight settled, the
 * stream reopened from the committed checkpoint), until every source is done.
 */
export class SourceDriver {
  private readonly nodes: Map<string, SourceNode>;
  private readonly policy: DeliveryPolicy;
  /** "settled": something a waiting recovery looks at has moved. */
  private readonly changes = new EventEmitter();
  private opened = false;
  private allDone = false;
  /** A reload is changing the pipeline: no credits go out, and batches that still arrive wait here. */
  private paused = false;
  private readonly held: {
    source: SourceNode;
    sequence: bigint;
    batch: RawBatch;
    checkpoint: Checkpointed;
  }[] = [];

  constructor(private readonly options: SourceDriverOptions) {
    this.nodes = options.nodes;
    this.policy = options.policy;
    this.changes.setMaxListeners(0);
  }

  /** Reads every source's checkpoint and opens its stream; fails the run when it cannot. */
  async open(): Promise<void> {
    try {
      await this.openEach();
    } catch (error) {
      this.options.onFailed(
        error instanceof UserError
          ? error
          : new UserError(`cannot read the sources' checkpoints: ${(error as Error).message}`, {
              exitCode: 1,
            }),
      );
    }
  }

  /** A delivery of the source closed: commit what settled, top its credits up, see whether it is done. */
  settled(source: SourceNode): void {
    setInFlight((this.options.records.get(source.id) as StageRecord).counters, source.ledger.inFlight);
    if (this.policy.keepsCheckpoints) source.commits.schedule(source.ledger, this.draining(source));
    this.grant(source);
    this.checkDone(source);
  }

  /** The store answers again: credits held back during the outage flow. */
  storeRecovered(): void {
    for (const source of this.nodes.values()) {
      source.pausedForOutage = false;
      this.grant(source);
    }
  }

  /**
   * Graceful stop: sources get no more credits, and each is done - its stream half-closed - once
   * what it sent has settled and its last checkpoint is committed. The stream stays open until
   * then, so the source hears the final commit notices (a broker source acks what they cover
   * instead of having it redelivered on the next run).
   */
  stop(): void {
    for (const source of this.nodes.values()) this.checkDone(source);
    this.checkAllDone();
  }

  abort(): void {
    for (const source of this.nodes.values()) source.link.abort();
    // Whatever waits for the sources to settle (a reload, a recovery) looks again, and sees the run over.
    this.changes.emit("settled");
  }

  /**
   * For a reload: sources get no more credits, and a batch a source still sends (on a credit it
   * had) waits, outside the ledger, for `resume`. Resolves once nothing is downstream and every
   * source's last checkpoint is committed: every stage's stream is then empty.
   */
  async quiesce(): Promise<void> {
    this.paused = true;
    for (const source of this.nodes.values()) {
      if (source.commits.busy) source.commits.schedule(source.ledger, true);
    }
    const quiet = (): boolean =>
      [...this.nodes.values()].every((source) => !this.policy.holding(source) && !source.commits.busy);
    while (!quiet() && this.options.running()) await once(this.changes, "settled");
  }

  /** Ends the streams of sources leaving the run (after `quiesce`); what they still sent is dropped, to be read again. */
  async remove(stageIds: readonly string[]): Promise<void> {
    const leaving = stageIds.flatMap((id) => {
      const source = this.nodes.get(id);
      this.nodes.delete(id);
      return source ? [source] : [];
    });
    for (let index = this.held.length - 1; index >= 0; index--) {
      if (leaving.includes((this.held[index] as (typeof this.held)[number]).source))
        this.held.splice(index, 1);
    }
    for (const source of leaving) {
      source.done = true;
      source.commits.cancel();
    }
    await Promise.all(leaving.map((source) => source.link.close()));
  }

  /** Opens the sources a reload added (or replaced) from their committed checkpoints. */
  async add(stageIds: readonly string[]): Promise<void> {
    await this.openEach(stageIds);
  }

  /** After a reload: the batches that waited go on through the new pipeline, and credits flow again. */
  resume(): void {
    this.paused = false;
    const waiting = this.held.splice(0);
    for (const { source, sequence, batch, checkpoint } of waiting) {
      if (this.nodes.get(source.id) === source) this.options.onBatch(source, sequence, batch, checkpoint);
    }
    for (const source of this.nodes.values()) {
      this.grant(source);
      this.checkDone(source);
    }
    this.checkAllDone();
  }

  cancelCommits(): void {
    for (const source of this.nodes.values()) source.commits.cancel();
  }

  private async openEach(only?: readonly string[]): Promise<void> {
    const { store, logger, outage } = this.options;
    const plan = this.options.plan();
    const opening = plan.stages.filter(
      (stage) => stage.family === "source" && (only === undefined || only.includes(stage.id)),
    );
    for (const stage of opening) {
      const stored = await outage.retry(`read the checkpoint of "${stage.id}"`, () =>
        store.getCheckpoint(plan.name, stage.id),
      );
      if (!this.options.running()) return;
      const record = this.options.records.get(stage.id) as StageRecord;
      const source = this.create(record);
      source.commits.committed = stored
        ? { position: Buffer.from(stored.position), description: stored.description }
        : undefined;
      if (this.options.stopping()) {
        source.done = true;
        continue;
      }
      logger.info(
        { stage: stage.id, resume: source.commits.committed?.description || "from the start" },
        "source starts",
      );
      source.open();
    }
    this.opened = true;
    this.checkAllDone();
  }

  private create(record: StageRecord): SourceNode {
    const { stage } = record;
    const { logger, outage, store } = this.options;
    const plan = this.options.plan();
    let source: SourceNode | undefined;
    const node = (): SourceNode => source as SourceNode;
    const link = new SourceLink(
      {
        stage,
        endpoint: this.options.services.endpoint(stage.id),
        openStream: this.options.openStream ?? sourceStreams,
        logger,
        maxBatchBytes: record.limit.maxBytes,
      },
      {
        onBatch: (sequence, batch, checkpoint) => {
          node().usedCredit();
          if (this.paused) {
            this.held.push({ source: node(), sequence, batch, checkpoint });
            return;
          }
          this.options.onBatch(node(), sequence, batch, checkpoint);
          if (!this.policy.keepsCheckpoints) this.grant(node());
        },
        onExhausted: () => {
          node().exhausted = true;
          this.settled(node());
        },
        onBroken: (reason, permanent) => this.broken(node(), reason, permanent),
      },
    );
    const commits = new SourceCommits({
      pipeline: plan.name,
      sourceId: stage.id,
      store,
      outage,
      intervalMs: this.options.commitIntervalMs,
      runId: this.options.runId,
      syncDeadLetters: this.options.syncDeadLetters,
      onCommitted: (sequence, checkpoint) => link.commit(sequence, checkpoint),
      onFailed: (error) => this.options.onFailed(error),
      onSettled: () => {
        this.grant(node());
        this.checkDone(node());
      },
    });
    source = new SourceNode(stage, link, commits, logger);
    record.source = source;
    this.nodes.set(stage.id, source);
    return source;
  }

  private grant(source: SourceNode): void {
    if (this.options.stopping() || this.paused) return;
    const storeDown = this.options.outage.down;
    source.grant(this.policy.held(source, storeDown), storeDown);
  }

  /** Nothing more will arrive from this source: its last commit goes out without waiting. */
  private draining(source: SourceNode): boolean {
    return source.ledger.inFlight === 0 && (source.exhausted || this.options.stopping());
  }

  private broken(source: SourceNode, reason: string, permanent: boolean): void {
    if (source.done) return;
    if (this.options.stopping() || source.exhausted) {
      this.checkDone(source);
      return;
    }
    const record = this.options.records.get(source.id) as StageRecord;
    record.counters.errors += 1;
    if (permanent) {
      this.options.onFailed(new UserError(`source "${source.id}" failed: ${reason}`, { exitCode: 1 }));
      return;
    }
    if (!this.policy.keepsCheckpoints) {
      this.options.onFailed(
        new UserError(
          `source "${source.id}" failed (${reason}); at-most-once delivery keeps no checkpoint to resume from`,
          { exitCode: 1 },
        ),
      );
      return;
    }
    source.broken = true;
    this.options.logger.warn(
      { stage: source.id, reason, inFlight: source.ledger.inFlight },
      "source stream broke; recovering after in-flight batches settle",
    );
    this.options.services
      .endpoint(source.id)
      .recover(reason)
      .then(() => this.whenSettled(source))
      .then(() => {
        if (!this.options.stopping() && !source.done) source.open();
      })
      .catch((error: Error) => this.options.onFailed(error));
  }

  /** Resolves once nothing the source sent is in flight and no commit is running or waiting. */
  private async whenSettled(source: SourceNode): Promise<void> {
    while (source.ledger.inFlight > 0 || source.commits.busy) await once(this.changes, "settled");
  }

  private checkDone(source: SourceNode): void {
    this.changes.emit("settled");
    if (source.commits.busy && this.draining(source)) {
      // A commit waits for its interval, but nothing more will come: send it now.
      source.commits.schedule(source.ledger, true);
      return;
    }
    if (source.done || this.policy.holding(source) || source.commits.busy) return;
    if (source.exhausted || this.options.stopping()) {
      source.done = true;
      void source.link.close();
      this.checkAllDone();
    }
  }

  private checkAllDone(): void {
    if (!this.opened || this.allDone) return;
    if ([...this.nodes.values()].every((source) => source.done)) {
      this.allDone = true;
      this.options.onAllDone();
    }
  }
}
