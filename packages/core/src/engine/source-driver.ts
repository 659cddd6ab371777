import { UserError } from "@flow/errors";
import type { Logger } from "pino";
import type { Pipeline } from "../config/pipeline-model";
import { DEFAULT_COMMIT_INTERVAL_MS } from "../config/stage-settings-defaults";
import type { Peer } from "../gen/peer/v1/peer";
import type { StateStore } from "../state";
import type { DeliveryPolicy } from "./delivery-policy";
import type { RawBatch } from "./raw-batch";
import { ReloadPause } from "./reload-pause";
import { SettledSignal } from "./settled-signal";
import type { Checkpointed } from "./source-ledger";
import { type SourceLinkParts, sourceStreams } from "./source-link";
import type { SourceNode } from "./source-node";
import { assembleSourceNode } from "./source-node-assembly";
import { SourceRecovery } from "./source-recovery";
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
  /**
   * The commit interval of a source whose settings name none (DEFAULT_COMMIT_INTERVAL_MS unless
   * given); a source's own `commitIntervalMs` wins.
   */
  commitIntervalMs?: number;
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
  /** The stages a source pushes its batches to on the direct data path (see direct-edges.ts); none when absent. */
  peers?: (record: StageRecord) => Peer[];
  /** Every source is done: exhausted or stopped, nothing in flight, its last checkpoint committed. */
  onAllDone: () => void;
}

/**
 * The sources of a run: opens each from its committed checkpoint, gives credits, commits, and
 * hands a broken stream to recovery (SourceRecovery) and a reload's pause to ReloadPause, until
 * every source is done.
 */
export class SourceDriver {
  private readonly nodes: Map<string, SourceNode>;
  private readonly policy: DeliveryPolicy;
  /** Something a waiting recovery or reload looks at has moved. */
  private readonly settledSignal = new SettledSignal();
  private readonly pause: ReloadPause;
  private readonly recovery: SourceRecovery;
  private opened = false;
  private allDone = false;

  constructor(private readonly options: SourceDriverOptions) {
    this.nodes = options.nodes;
    this.policy = options.policy;
    this.pause = new ReloadPause({
      nodes: this.nodes,
      policy: this.policy,
      settled: this.settledSignal,
      running: options.running,
      deliver: options.onBatch,
      resumed: () => {
        for (const source of this.nodes.values()) {
          this.grant(source);
          this.checkDone(source);
        }
        this.checkAllDone();
      },
    });
    this.recovery = new SourceRecovery({
      logger: options.logger,
      services: options.services,
      policy: this.policy,
      records: options.records,
      settled: this.settledSignal,
      stopping: options.stopping,
      running: options.running,
      ended: (source) => this.checkDone(source),
      onFailed: options.onFailed,
    });
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

  /**
   * The data plane restarted (data-plane-restart.ts): under at-least-once every source re-reads
   * what it had in flight from its committed checkpoint; under at-most-once what was in flight is
   * gone (as that guarantee allows) and credits flow again to the emptied links. Either goes on
   * only once `ready` settles (the restarted services are up and the links' streams fresh).
   */
  restartData(ready: Promise<void>): void {
    for (const source of this.nodes.values()) {
      if (this.policy.keepsCheckpoints) {
        this.pause.forget(source);
        this.recovery.rewind(source, ready);
      } else void ready.then(() => this.grant(source));
    }
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
    this.settledSignal.notify();
  }

  /** For a reload: pauses the sources until nothing is in flight anywhere (see ReloadPause). */
  quiesce(): Promise<void> {
    return this.pause.quiesce();
  }

  /** Ends the streams of sources leaving the run (after `quiesce`); what they still sent is dropped, to be read again. */
  remove(stageIds: readonly string[]): Promise<void> {
    return this.pause.remove(stageIds);
  }

  /** Opens the sources a reload added (or replaced) from their committed checkpoints. */
  async add(stageIds: readonly string[]): Promise<void> {
    await this.openEach(stageIds);
  }

  /** After a reload: the batches that waited go on through the new pipeline, and credits flow again. */
  resume(): void {
    this.pause.resume();
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
    const { options } = this;
    const source = assembleSourceNode(
      record,
      {
        pipeline: options.plan().name,
        store: options.store,
        logger: options.logger,
        outage: options.outage,
        endpoint: options.services.endpoint(record.id),
        openStream: options.openStream ?? sourceStreams,
        commitIntervalMs: options.commitIntervalMs ?? DEFAULT_COMMIT_INTERVAL_MS,
        runId: options.runId,
        syncDeadLetters: options.syncDeadLetters,
        peers: () => options.peers?.(record) ?? [],
      },
      {
        onBatch: (node, sequence, batch, checkpoint) => {
          // A source is done once the run stops and nothing it sent is in flight; a batch it still
          // sends on a credit it had is not delivered (the links may be closing): never committed,
          // it is read again by the next run.
          if (node.done) return;
          if (this.pause.hold(node, sequence, batch, checkpoint)) return;
          options.onBatch(node, sequence, batch, checkpoint);
          if (!this.policy.keepsCheckpoints) this.grant(node);
        },
        onExhausted: (node) => {
          node.exhausted = true;
          this.settled(node);
        },
        onBroken: (node, reason, permanent) => this.recovery.broken(node, reason, permanent),
        onCommitFailed: (error) => options.onFailed(error),
        onCommitSettled: (node) => {
          this.grant(node);
          this.checkDone(node);
        },
      },
    );
    record.source = source;
    this.nodes.set(record.id, source);
    return source;
  }

  private grant(source: SourceNode): void {
    if (this.options.stopping() || this.pause.paused) return;
    const storeDown = this.options.outage.down;
    source.grant(this.policy.held(source, storeDown), storeDown);
  }

  /** Nothing more will arrive from this source: its last commit goes out without waiting. */
  private draining(source: SourceNode): boolean {
    return source.ledger.inFlight === 0 && (source.exhausted || this.options.stopping());
  }

  private checkDone(source: SourceNode): void {
    this.settledSignal.notify();
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
