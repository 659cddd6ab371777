import { type BatchLimit, concatRawBatches, fitsInOneBatch, type RawBatch } from "./raw-batch";

/** Which source batch a delivery descends from: acknowledgements are counted against it. */
export interface Origin {
  source: string;
  sequence: bigint;
}

export interface Delivery {
  /**
   * The source batches its events descend from, one entry per share of a source batch it holds
   * (a batch merged from two parts of one source batch names it twice): closing the delivery
   * closes each entry once in that source's ledger.
   */
  origins: Origin[];
  batch: RawBatch;
  /** Attempts made so far (for retries). */
  attempts: number;
  sentAt: number;
  /** Sent on a stream at least once (a batch sent again after a recovery is not merged). */
  sent?: boolean;
}

/**
 * Batching while busy: takes the oldest waiting delivery off `waiting`, merged with the fresh
 * deliveries behind it while their events fit in one batch within `limit`. Deliveries sent or
 * retried before, of another event major, or known only by reference (the direct data path: Core
 * has no events to join), are never merged (a resend keeps its batch as it was; a link's
 * deliveries are all of its stage's major, the Router sees to it). `waiting` must not be empty.
 */
export function takeMerged(waiting: Delivery[], limit: BatchLimit): Delivery {
  let delivery = waiting.shift() as Delivery;
  for (let next = waiting[0]; next && mergeable(delivery, next, limit); next = waiting[0]) {
    waiting.shift();
    delivery = {
      origins: [...delivery.origins, ...next.origins],
      batch: concatRawBatches(delivery.batch, next.batch),
      attempts: 0,
      sentAt: delivery.sentAt,
    };
  }
  return delivery;
}

/** Two deliveries never sent nor retried, holding their events, of one major, whose events fit in one batch within the limit. */
function mergeable(first: Delivery, second: Delivery, limit: BatchLimit): boolean {
  return (
    first.batch.ref === undefined &&
    second.batch.ref === undefined &&
    !first.sent &&
    !second.sent &&
    first.attempts === 0 &&
    second.attempts === 0 &&
    first.batch.major === second.batch.major &&
    fitsInOneBatch(first.batch, second.batch, limit)
  );
}
