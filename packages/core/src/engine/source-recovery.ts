import { UserError } from "@flow/errors";
import type { Logger } from "pino";
import type { DeliveryPolicy } from "./delivery-policy";
import type { SettledSignal } from "./settled-signal";
import { SourceLedger } from "./source-ledger";
import type { SourceNode } from "./source-node";
import type { StageRecord } from "./stage-record";
import type { RunServices } from "./stage-services";

export interface SourceRecoveryParts {
  logger: Logger;
  services: Pick<RunServices, "endpoint">;
  policy: Pick<DeliveryPolicy, "keepsCheckpoints">;
  records: ReadonlyMap<string, StageRecord>;
  settled: SettledSignal;
  /** The run was asked to stop (a source is not reopened then). */
  stopping: () => boolean;
  /** The run has not ended (nothing is reopened after that). */
  running: () => boolean;
  /** The source will send nothing more (the run stops, or it was exhausted): see whether it is done. */
  ended: (source: SourceNode) => void;
  onFailed: (error: Error) => void;
}

/**
 * What happens when a source must be read again from its committed checkpoint. When its stream breaks: a source that says restarting will not help, or
 * one under at-most-once (no checkpoint to resume from), fails the run; any other has its service
 * recovered, waits until what it sent has settled and its commits are done, and is reopened from
 * its committed checkpoint.
 */
export class SourceRecovery {
  constructor(private readonly parts: SourceRecoveryParts) {}

  /** The source's stream broke with `reason`; `permanent`: the source said restarting will not help. */
  broken(source: SourceNode, reason: string, permanent: boolean): void {
    const { parts } = this;
    if (source.done) return;
    if (parts.stopping() || source.exhausted) {
      parts.ended(source);
      return;
    }
    const record = parts.records.get(source.id) as StageRecord;
    record.counters.errors += 1;
    if (permanent) {
      parts.onFailed(new UserError(`source "${source.id}" failed: ${reason}`, { exitCode: 1 }));
      return;
    }
    if (!parts.policy.keepsCheckpoints) {
      parts.onFailed(
        new UserError(
          `source "${source.id}" failed (${reason}); at-most-once delivery keeps no checkpoint to resume from`,
          { exitCode: 1 },
        ),
      );
      return;
    }
    source.broken = true;
    parts.logger.warn(
      { stage: source.id, reason, inFlight: source.ledger.inFlight },
      "source stream broke; recovering after in-flight batches settle",
    );
    parts.services
      .endpoint(source.id)
      .recover(reason)
      .then(() => parts.settled.until(() => source.ledger.inFlight === 0 && !source.commits.busy))
      .then(() => {
        if (!parts.stopping() && !source.done) source.open();
      })
      .catch((error: Error) => parts.onFailed(error));
  }

  /**
   * The data plane restarted (data-plane-restart.ts): batches whose bytes Core does not hold were
   * lost downstream, so everything the source sent that has not settled is abandoned - a fresh
   * ledger; what settled is committed first - and the stream is reopened from the committed
   * checkpoint once `ready` settled and no commit runs: what was in flight is read again
   * (at-least-once). A source whose recovery is under way only loses its ledger: the recovery
   * reopens it.
   */
  rewind(source: SourceNode, ready: Promise<void>): void {
    const { parts } = this;
    if (source.done) return;
    source.commits.schedule(source.ledger, true);
    source.ledger = new SourceLedger();
    const record = parts.records.get(source.id) as StageRecord;
    record.counters.inFlight = 0;
    if (source.broken) return;
    source.broken = true;
    source.exhausted = false;
    source.link.abort();
    ready
      .then(() => parts.settled.until(() => !source.commits.busy || !parts.running()))
      .then(() => {
        if (!parts.running() || source.done) return;
        if (parts.stopping()) parts.ended(source);
        else source.open();
      })
      .catch((error: Error) => parts.onFailed(error));
  }
}
