/**
 * The acknowledgement ledger of one source: for every batch the source sent, how many deliveries
 * are still open downstream, and which checkpoint may be committed.
 *
 * A batch opens with one delivery. Fan-out to k children turns one delivery into k; a processor
 * that filters a batch to nothing, a consumer that acknowledges it, or a dead-lettered batch each
 * close one. A checkpoint becomes committable only when its batch AND every batch before it are
 * closed: batches complete out of order across branches, commits never do.
 */
export interface Checkpointed {
  position: Buffer;
  description: string;
}

interface OpenBatch {
  open: number;
  checkpoint: Checkpointed;
  events: number;
}

export class SourceLedger {
  private readonly batches = new Map<bigint, OpenBatch>();
  /** The highest sequence whose batch and all before it are closed. */
  private committedThrough = 0n;
  private committable: { sequence: bigint; checkpoint: Checkpointed } | undefined;
  private lastSent = 0n;

  /** A batch the source sent; sequences arrive 1, 2, 3... without gaps. */
  opened(sequence: bigint, checkpoint: Checkpointed, events: number): void {
    if (sequence !== this.lastSent + 1n) {
      throw new Error(`source sent batch ${sequence} after ${this.lastSent}: sequences must have no gaps`);
    }
    this.lastSent = sequence;
    this.batches.set(sequence, { open: 1, checkpoint, events });
  }

  /** One delivery of the batch became `count` (fan-out: count children; a filtered batch: 0). */
  split(sequence: bigint, count: number): void {
    const batch = this.require(sequence);
    batch.open += count - 1;
    if (batch.open === 0) this.settle();
  }

  /** One delivery of the batch finished (written, or dead-lettered). */
  close(sequence: bigint): void {
    this.split(sequence, 0);
  }

  /** Batches sent but not fully acknowledged. */
  get inFlight(): number {
    return this.batches.size;
  }

  get inFlightEvents(): number {
    let total = 0;
    for (const batch of this.batches.values()) total += batch.events;
    return total;
  }

  /** Takes the newest committable checkpoint, if it moved since the last take. */
  takeCommittable(): { sequence: bigint; checkpoint: Checkpointed } | undefined {
    const result = this.committable;
    this.committable = undefined;
    return result;
  }

  get lastSequence(): bigint {
    return this.lastSent;
  }

  private require(sequence: bigint): OpenBatch {
    const batch = this.batches.get(sequence);
    if (!batch) throw new Error(`batch ${sequence} is not open (acknowledged twice?)`);
    return batch;
  }

  private settle(): void {
    for (;;) {
      const next = this.committedThrough + 1n;
      const batch = this.batches.get(next);
      if (!batch || batch.open > 0) return;
      this.batches.delete(next);
      this.committedThrough = next;
      this.committable = { sequence: next, checkpoint: batch.checkpoint };
    }
  }
}
