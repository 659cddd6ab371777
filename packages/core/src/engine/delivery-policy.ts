import type { Origin } from "./delivery";
import type { RawBatch } from "./raw-batch";
import type { Checkpointed } from "./source-ledger";
import type { SourceNode } from "./source-node";

/**
 * What the pipeline's delivery guarantee decides, in one place (the `delivery` setting):
 * whether batches are accounted for in the sources' ledgers and checkpoints committed, what holds
 * a source's credits back, and whether a broken source can be resumed.
 */
export interface DeliveryPolicy {
  /** Checkpoints are committed, and a source whose stream broke reopens from its last one. */
  readonly keepsCheckpoints: boolean;
  /** A source batch arrived. */
  opened(source: SourceNode, sequence: bigint, batch: RawBatch, checkpoint: Checkpointed): void;
  /** One delivery descending from each origin became `deliveries` (fan-out, cuts; 0 for nothing). */
  split(origins: readonly Origin[], deliveries: number): void;
  /** A delivery of `origin` finished (written, filtered to nothing, dead-lettered): the sources to look at again. */
  closed(origin: Origin): SourceNode[];
  /** The batches that count against a source's credits. */
  held(source: SourceNode, storeDown: boolean): number;
  /** The source still has batches downstream (it cannot be done yet). */
  holding(source: SourceNode): boolean;
}

/**
 * at-least-once (the default): every source batch has a ledger entry counting its deliveries
 * downstream; a source gets a credit when one of its batches is acknowledged everywhere, and its
 * checkpoint commits only when every batch before it is.
 */
export function atLeastOnce(sources: ReadonlyMap<string, SourceNode>): DeliveryPolicy {
  return {
    keepsCheckpoints: true,
    opened: (source, sequence, batch, checkpoint) => source.ledger.opened(sequence, checkpoint, batch.count),
    split(origins, deliveries) {
      for (const origin of origins) sources.get(origin.source)?.ledger.split(origin.sequence, deliveries);
    },
    closed(origin) {
      const source = sources.get(origin.source);
      if (!source) return [];
      source.ledger.close(origin.sequence);
      return [source];
    },
    held: (source, storeDown) => source.unsettled(storeDown),
    holding: (source) => source.ledger.inFlight > 0,
  };
}

/**
 * at-most-once: what was handed on counts as delivered; no ledger, no checkpoints. A source gets
 * credits while every link downstream has room (fewer than its inFlight unanswered batches), so
 * memory stays bounded; a source failure ends the run (there is nothing to resume from).
 */
export function atMostOnce(
  sources: ReadonlyMap<string, SourceNode>,
  busiestLinkHeld: () => number,
): DeliveryPolicy {
  return {
    keepsCheckpoints: false,
    opened: () => undefined,
    split: () => undefined,
    // Room may have opened up anywhere.
    closed: () => [...sources.values()],
    held: () => busiestLinkHeld(),
    holding: () => busiestLinkHeld() > 0,
  };
}
