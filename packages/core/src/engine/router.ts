import type { EventMajor } from "@flow/sdk/internal";
import type { PeerRef } from "../gen/peer/v1/peer";
import { type ConvertedRawBatch, convertRawBatch } from "./batch-conversion";
import type { Delivery, Origin } from "./delivery";
import type { DeliveryPolicy } from "./delivery-policy";
import { cutRawBatch, encodeEvents, type RawBatch } from "./raw-batch";
import { describeRef } from "./reference-batch";
import type { StageRecord } from "./stage-record";

export interface RouterHooks {
  /** Every delivery of `origin` along this path finished without going anywhere (nothing to send). */
  closed(origin: Origin): void;
  /**
   * An event `to` cannot take - too large for any of its batches, or one its contract major
   * cannot carry: dead-letter it for that stage with `reason`.
   */
  undeliverable(to: StageRecord, delivery: Delivery, reason: string): void;
}

/**
 * Fan-out and fan-in: a stage's output goes, as bytes, to every stage that lists it in `inputs`,
 * in the event major that stage speaks - the batch as it is when the majors agree, else converted
 * once per major (events the stage's major cannot carry are dead-lettered there) - and cut to each
 * one's limit (batch.maxSize and the negotiated byte limit). Fan-in needs nothing of its own: a
 * stage with several inputs gets each input's batches on its one link, where batching while busy
 * merges them. A batch known only by reference (the direct data path) goes on as it is (see
 * `deliverReference`).
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
    if (batch.ref) {
      this.deliverReference(origins, from, batch);
      return;
    }
    const conversions = new Map<EventMajor, ConvertedRawBatch>();
    const converted = (major: EventMajor): ConvertedRawBatch => {
      let conversion = conversions.get(major);
      if (!conversion) {
        conversion = convertRawBatch(batch, major);
        conversions.set(major, conversion);
      }
      return conversion;
    };
    const routes = outputs.map((to) => {
      const { batch: inMajor, refused } = converted(to.major);
      const cut = cutRawBatch(inMajor, to.limit);
      // A batch whose every event was refused has nothing left to send.
      const parts = inMajor.count === 0 ? [] : cut.parts;
      return { to, parts, oversized: cut.oversized, refused };
    });
    // One delivery per part, per oversized event and per refused one (closed once its dead letter is written).
    this.policy.split(
      origins,
      routes.reduce(
        (sum, route) => sum + route.parts.length + route.oversized.length + route.refused.length,
        0,
      ),
    );
    for (const { to, parts, oversized, refused } of routes) {
      for (const part of parts) {
        to.counters.eventsIn += part.count;
        to.link?.send(origins, part);
      }
      for (const event of oversized) {
        this.hooks.undeliverable(
          to,
          { origins, batch: event.batch, attempts: 0, sentAt: 0 },
          to.oversizedReason(event.bytes),
        );
      }
      for (const { event, reason } of refused) {
        this.hooks.undeliverable(
          to,
          { origins, batch: encodeEvents([event]), attempts: 0, sentAt: 0 },
          `event v${batch.major} cannot convert to event v${to.major}, which ${to.stage.family} "${to.id}" speaks: ${reason}`,
        );
      }
    }
  }

  /**
   * A batch known only by reference goes to every output as it is, the same reference to each:
   * its upstream was named peers only because every edge out of it is direct (direct-edges.ts),
   * so every output speaks the reference's major and takes references. One that does not is a bug
   * in Core (the stage could never read the batch), which throws instead of sending it.
   */
  private deliverReference(origins: Origin[], from: StageRecord, batch: RawBatch): void {
    for (const to of from.outputs) {
      if (to.major !== batch.major || !to.directPathCapable) {
        throw new Error(
          `${from.stage.family} "${from.id}" sent a batch by reference (${describeRef(batch.ref as PeerRef)}) to ${to.stage.family} "${to.id}", which ${to.major !== batch.major ? `speaks event v${to.major}, not v${batch.major}` : "does not take batches by reference"}: the edge is not direct, so Core should not have named it a peer; this is a bug in Flow Core`,
        );
      }
    }
    this.policy.split(origins, from.outputs.length);
    for (const to of from.outputs) {
      to.counters.eventsIn += batch.count;
      to.link?.send(origins, batch);
    }
  }
}
