import type { FlowEvent } from "@flow/sdk";
import type { Logger } from "pino";
import type { DeadLetter, DeadLetterFile } from "./dead-letter-file";
import type { Delivery, Origin } from "./delivery";
import type { DeliveryPolicy } from "./delivery-policy";
import { firstEventTime } from "./first-event-time";
import type { PipelineMetrics } from "./pipeline-metrics";
import { decodeEvents, type RawBatch } from "./raw-batch";
import { Router } from "./router";
import type { Checkpointed } from "./source-ledger";
import type { SourceNode } from "./source-node";
import { setInFlight } from "./stage-counters";
import type { StageLinkHooks } from "./stage-links";
import type { StageRecord } from "./stage-record";

export interface StageOutcomesParts {
  records: ReadonlyMap<string, StageRecord>;
  policy: DeliveryPolicy;
  logger: Logger;
  metrics?: Pick<PipelineMetrics, "observeEventLatency">;
  /** The run's dead-letter file (none until the run has claimed its pipeline). */
  deadLetters: () => Pick<DeadLetterFile, "write"> | undefined;
  /** A delivery descending from this source closed: its commits, credits and end may move. */
  settled: (source: SourceNode) => void;
  /** Ends the run as failed. */
  fail: (error: Error) => void;
  /** Events sent by reference were lost (ref_missing): the run's data-plane restart, with why. */
  refLost: (reason: string) => void;
  now?: () => number;
}

/**
 * What the run does with what each stage reports: a source's batch and a processor's output go
 * on to the stages downstream (Router); a consumer's write, a batch filtered to nothing and a
 * batch given up on close their deliveries, so the sources they came from settle. Events given up
 * on become dead letters first: a delivery never closes unless its events were written or their
 * dead letters are on disk.
 */
export class StageOutcomes implements StageLinkHooks {
  private readonly router: Router;
  private readonly now: () => number;

  constructor(private readonly parts: StageOutcomesParts) {
    this.now = parts.now ?? Date.now;
    this.router = new Router(parts.policy, {
      closed: (origin) => this.closeDelivery(origin),
      undeliverable: (to, delivery, reason) => this.giveUp(to, delivery, reason),
    });
  }

  /** A source sent a batch: it enters the source's accounting and goes to the stages reading it. */
  read(source: SourceNode, sequence: bigint, batch: RawBatch, checkpoint: Checkpointed): void {
    this.parts.policy.opened(source, sequence, batch, checkpoint);
    const record = this.parts.records.get(source.id) as StageRecord;
    record.counters.eventsOut += batch.count;
    record.counters.batchesIn += 1;
    setInFlight(record.counters, source.ledger.inFlight);
    this.route([{ source: source.id, sequence }], record, batch);
  }

  processed(
    record: StageRecord,
    origins: Origin[],
    batch: RawBatch,
    letters: { event: FlowEvent; reason: string }[],
  ): void {
    record.counters.eventsOut += batch.count;
    if (letters.length > 0) {
      const written = this.writeDeadLetters(
        letters.map((letter) => ({ stage: record.id, reason: letter.reason, event: letter.event })),
      );
      // Not written: the batch stays unanswered, so its checkpoint is never committed.
      if (!written) return;
      record.counters.deadLetters += letters.length;
    }
    this.route(origins, record, batch);
  }

  /** The Router refusing a batch is a bug in Core (a reference where it cannot go): the run fails, saying so. */
  private route(origins: Origin[], from: StageRecord, batch: RawBatch): void {
    try {
      this.router.deliver(origins, from, batch);
    } catch (error) {
      this.parts.fail(error as Error);
    }
  }

  written(record: StageRecord, origins: Origin[], batch: RawBatch): void {
    record.counters.eventsOut += batch.count;
    const time = this.parts.metrics ? firstEventTime(batch) : undefined;
    if (time) {
      const createdMs = Number(time.seconds) * 1000 + time.nanos / 1e6;
      this.parts.metrics?.observeEventLatency(record.id, (this.now() - createdMs) / 1000);
    }
    for (const origin of origins) this.closeDelivery(origin);
  }

  giveUp(record: StageRecord, delivery: Delivery, reason: string): void {
    record.counters.errors += 1;
    this.parts.logger.warn({ stage: record.id, events: delivery.batch.count, reason }, "batch dead-lettered");
    const written = this.writeDeadLetters(
      decodeEvents(delivery.batch).map((event) => ({ stage: record.id, reason, event })),
    );
    if (!written) return;
    record.counters.deadLetters += delivery.batch.count;
    for (const origin of delivery.origins) this.closeDelivery(origin);
  }

  /** A link cannot go on (links keep this hook detached from the object, hence an arrow). */
  readonly fatal = (error: Error): void => this.parts.fail(error);

  /** A link lost events sent by reference (an arrow, as `fatal`). */
  readonly refLost = (reason: string): void => this.parts.refLost(reason);

  /**
   * Writes dead letters, or fails the run when they cannot be written (a full disk): an event is
   * never counted as handled unless it was delivered or its dead letter is on disk.
   */
  private writeDeadLetters(letters: DeadLetter[]): boolean {
    try {
      this.parts.deadLetters()?.write(letters);
      return true;
    } catch (error) {
      this.parts.fail(error as Error);
      return false;
    }
  }

  private closeDelivery(origin: Origin): void {
    for (const source of this.parts.policy.closed(origin)) this.parts.settled(source);
  }
}
