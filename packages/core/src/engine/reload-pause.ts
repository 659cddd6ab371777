import type { DeliveryPolicy } from "./delivery-policy";
import type { RawBatch } from "./raw-batch";
import type { SettledSignal } from "./settled-signal";
import type { Checkpointed } from "./source-ledger";
import type { SourceNode } from "./source-node";

export interface ReloadPauseParts {
  /** The run's sources, by stage id (sources leaving the run are taken out of it). */
  nodes: Map<string, SourceNode>;
  policy: Pick<DeliveryPolicy, "holding">;
  settled: SettledSignal;
  /** The run has not ended. */
  running: () => boolean;
  /** A batch that waited goes on, through the new pipeline. */
  deliver: (source: SourceNode, sequence: bigint, batch: RawBatch, checkpoint: Checkpointed) => void;
  /** The pause is over: credits flow again, and each source looks whether it is done. */
  resumed: () => void;
}

interface HeldBatch {
  source: SourceNode;
  sequence: bigint;
  batch: RawBatch;
  checkpoint: Checkpointed;
}

/**
 * The sources' pause while a reload changes the pipeline: no credits go out, a batch a source
 * still sends (on a credit it had) waits here, outside the ledger, and the reload goes on once
 * nothing is downstream and every checkpoint is committed, so every stage's stream is empty.
 */
export class ReloadPause {
  private pausedNow = false;
  private readonly held: HeldBatch[] = [];

  constructor(private readonly parts: ReloadPauseParts) {}

  /** A reload is under way: sources get no credits. */
  get paused(): boolean {
    return this.pausedNow;
  }

  /** Keeps a batch that arrived during the pause, for `resume`; false when there is no pause. */
  hold(source: SourceNode, sequence: bigint, batch: RawBatch, checkpoint: Checkpointed): boolean {
    if (!this.pausedNow) return false;
    this.held.push({ source, sequence, batch, checkpoint });
    return true;
  }

  /** Pauses, and resolves once nothing is downstream and no commit runs or waits (or the run ended). */
  async quiesce(): Promise<void> {
    this.pausedNow = true;
    const { nodes, policy } = this.parts;
    for (const source of nodes.values()) {
      if (source.commits.busy) source.commits.schedule(source.ledger, true);
    }
    const quiet = (): boolean =>
      [...nodes.values()].every((source) => !policy.holding(source) && !source.commits.busy);
    await this.parts.settled.until(() => quiet() || !this.parts.running());
  }

  /** Ends the streams of sources leaving the run (after `quiesce`); what they still sent is dropped, to be read again. */
  async remove(stageIds: readonly string[]): Promise<void> {
    const leaving = stageIds.flatMap((id) => {
      const source = this.parts.nodes.get(id);
      this.parts.nodes.delete(id);
      return source ? [source] : [];
    });
    for (let index = this.held.length - 1; index >= 0; index--) {
      if (leaving.includes((this.held[index] as HeldBatch).source)) this.held.splice(index, 1);
    }
    for (const source of leaving) {
      source.done = true;
      source.commits.cancel();
    }
    await Promise.all(leaving.map((source) => source.link.close()));
  }

  /** Drops what `source` sent during the pause: it reads it again (a data-plane restart rewound it). */
  forget(source: SourceNode): void {
    for (let index = this.held.length - 1; index >= 0; index--) {
      if ((this.held[index] as HeldBatch).source === source) this.held.splice(index, 1);
    }
  }

  /** After a reload: the batches that waited go on (those of sources still in the run), and credits flow again. */
  resume(): void {
    this.pausedNow = false;
    for (const { source, sequence, batch, checkpoint } of this.held.splice(0)) {
      if (this.parts.nodes.get(source.id) === source) this.parts.deliver(source, sequence, batch, checkpoint);
    }
    this.parts.resumed();
  }
}
