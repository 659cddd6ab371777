import type { Delivery, Origin } from "./batch-link";
import type { DeliveryPolicy } from "./delivery-policy";
import { cutRawBatch, type RawBatch } from "./raw-batch";
import type { StageRecord } from "./stage-record";

export interface RouterHooks {
  /** Every delivery of `origin` along this path finished without going anywhere (nothing to send). */
  closed(origin: Origin): void;
  /** An event no batch of `to` can carry: dead-letter it for that stage with `reason`. */
  oversized(to: StageRecord, delivery: Delivery, reason: string): void;
}

/**
 * Fan-out and fan-in: a stage's output goes, as bytes, to every stage that lists it in `inputs`,
 * cut to each one's limit (batch.maxSize and the negotiated byte limit). Fan-in needs nothing of
 * its own: a stage with several inputs gets each input's batches on its one link, where batching
 * while busy merges them.
 */
export class Router {
  constructor(
    private readonly policy: DeliveryPolicy,
    private readonly hooks: RouterHooks,
  ) {}

  /** Sends `batch`, descended from `origins`, from stage `from` to each of its outputs. */
  deliver(origins: Origin[], from: StageRecord, batch: RawBatch): void {
    const outputs = from.outputs;
    if (batch.count === 0 || outputs.length === 0) {
      for (const origin of origins) this.hooks.closed(origin);
      return;
    }
    const cuts = outputs.map((to) => cutRawBatch(batch, to.limit));
    // One delivery per part and per oversized event (closed once its dead letter is written).
    this.policy.split(
      origins,
      cuts.reduce((sum, cut) => sum + cut.parts.length + cut.oversized.length, 0),
    );
    for (const [index, to] of outputs.entries()) {
      const cut = cuts[index] as (typeof cuts)[number];
      for (const part of cut.parts) {
        to.counters.eventsIn += part.count;
        to.link?.send(origins, part);
      }
      for (const event of cut.oversized) {
        this.hooks.oversized(
          to,
          { origins, batch: event.batch, attempts: 0, sentAt: 0 },
          to.oversizedReason(event.bytes),
        );
      }
    }
  }
}
