import { type Delivery, takeMerged } from "./delivery";
import type { BatchLimit } from "./raw-batch";

/**
 * The deliveries a link holds for its stage, by where each is: sent and unanswered (under the
 * sequence it went out with), waiting out a retry delay, or waiting for room on the stream,
 * oldest first. A delivery waiting out a retry delay counts as in flight - it takes a place on
 * the stream and keeps the link busy - so it sits among the unanswered under a negative key that
 * no answer can name. The link (batch-link.ts) decides when to send, retry and replay; this keeps
 * the order they go out in.
 */
export class LinkDeliveries {
  /** By sequence (> 0) for the unanswered; by a negative key for those waiting out a retry delay. */
  private readonly pending = new Map<bigint, Delivery>();
  /** Waiting for room on the stream, oldest first. */
  private readonly waiting: Delivery[] = [];
  private lastSequence = 0n;
  private retrySlot = 0n;
  /** Bumped by `clear`: a retry delay begun before lets its delivery go. */
  private generation = 0;

  /** Sent and not yet answered, and waiting out a retry delay: what takes room on the stream. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Every delivery held: in flight plus waiting for room. */
  get held(): number {
    return this.pending.size + this.waiting.length;
  }

  /** The sequence the last delivery went out under (0 before the first). */
  get lastSent(): bigint {
    return this.lastSequence;
  }

  /** Some delivery held is known only by reference: its events are with the stage's service alone. */
  get holdsRefs(): boolean {
    for (const delivery of this.pending.values()) if (delivery.batch.ref) return true;
    return this.waiting.some((delivery) => delivery.batch.ref !== undefined);
  }

  /** The sequences sent and not yet answered. */
  unanswered(): bigint[] {
    return [...this.pending.keys()].filter((key) => key > 0n);
  }

  /** A fresh delivery, behind every other. */
  enqueue(delivery: Delivery): void {
    this.waiting.push(delivery);
  }

  /**
   * The next delivery to send when fewer than `room` are in flight: the oldest waiting, merged
   * with the fresh ones behind it within `limit` (takeMerged); undefined when none waits or the
   * stream is full. `markSent` then numbers it.
   */
  nextToSend(room: number, limit: BatchLimit): Delivery | undefined {
    if (this.waiting.length === 0 || this.pending.size >= room) return undefined;
    return takeMerged(this.waiting, limit);
  }

  /** Holds `delivery` as unanswered under the next sequence, and returns that sequence. */
  markSent(delivery: Delivery): bigint {
    this.lastSequence += 1n;
    this.pending.set(this.lastSequence, delivery);
    return this.lastSequence;
  }

  /** Takes the unanswered delivery an answer names; undefined for one never sent or answered already. */
  take(sequence: bigint): Delivery | undefined {
    const delivery = sequence > 0n ? this.pending.get(sequence) : undefined;
    if (delivery) this.pending.delete(sequence);
    return delivery;
  }

  /** Some delivery has been unanswered for longer than `limitMs` at `now`. */
  overdue(now: number, limitMs: number): boolean {
    for (const [sequence, delivery] of this.pending)
      if (sequence > 0n && now - delivery.sentAt > limitMs) return true;
    return false;
  }

  /**
   * Holds `delivery` in flight for `delayMs`, then puts it ahead of every waiting one (it is
   * older) and calls `resend`; unless `clear` came first, which lets it go.
   */
  holdForRetry(delivery: Delivery, delayMs: number, resend: () => void): void {
    const placeholder = --this.retrySlot;
    this.pending.set(placeholder, delivery);
    const generation = this.generation;
    setTimeout(() => {
      if (generation !== this.generation) return;
      this.pending.delete(placeholder);
      this.waiting.unshift(delivery);
      resend();
    }, delayMs).unref();
  }

  /**
   * After the stream broke: every unanswered delivery goes back to waiting, in the order it was
   * sent and ahead of the waiting ones (it is older), to be sent again on the next stream. Those
   * waiting out a retry delay stay as they are.
   */
  requeueUnanswered(): void {
    const unanswered = [...this.pending.entries()]
      .filter(([sequence]) => sequence > 0n)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    for (const [sequence] of unanswered) this.pending.delete(sequence);
    this.waiting.unshift(...unanswered.map(([, delivery]) => delivery));
  }

  /** Forgets every delivery, those waiting out a retry delay too. */
  clear(): void {
    this.generation += 1;
    this.pending.clear();
    this.waiting.length = 0;
  }
}
