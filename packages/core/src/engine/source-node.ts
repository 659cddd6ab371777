import type { Logger } from "pino";
import type { PipelineStage } from "../config/pipeline-model";
import type { SourceCommits } from "./source-commits";
import { SourceLedger } from "./source-ledger";
import type { SourceLink } from "./source-link";

/**
 * Everything the engine knows of one source while a run lasts: its stream, the ledger of its
 * batches downstream, its credits and where it is in its life (reading, exhausted, broken and
 * waiting to reopen, done), and its commits.
 */
export class SourceNode {
  ledger = new SourceLedger();
  /** Credits granted on the current stream, and batches received on it. */
  private granted: number;
  private received = 0;
  exhausted = false;
  /** The stream broke: wait for what is in flight, then reopen from the committed checkpoint. */
  broken = false;
  done = false;
  /** Credits are held back because the store is unreachable (logged once per outage). */
  pausedForOutage = false;

  constructor(
    readonly stage: PipelineStage,
    readonly link: SourceLink,
    readonly commits: SourceCommits,
    private readonly logger: Logger,
  ) {
    this.granted = stage.settings.inFlight;
  }

  get id(): string {
    return this.stage.id;
  }

  /** Opens (or reopens) the stream after the committed checkpoint, with a fresh ledger and credits. */
  open(): void {
    this.ledger = new SourceLedger();
    this.commits.restart();
    this.granted = this.stage.settings.inFlight;
    this.received = 0;
    this.broken = false;
    this.link.open(this.commits.committed, this.stage.settings.inFlight);
  }

  /** A batch arrived on the stream: it used one credit. */
  usedCredit(): void {
    this.received += 1;
  }

  /**
   * Tops the source's credits up so that `held` (the batches that count against it) plus the
   * credits it has not used stay within its inFlight setting. `outage`: the store is away, so
   * say once that the source is paused when nothing can be granted.
   */
  grant(held: number, outage: boolean): void {
    if (this.done || this.broken || this.exhausted) return;
    const outstanding = this.granted - this.received;
    const available = this.stage.settings.inFlight - held - outstanding;
    if (available > 0) {
      this.granted += available;
      this.link.grant(available);
    } else if (outage && !this.pausedForOutage) {
      this.pausedForOutage = true;
      this.logger.warn(
        { stage: this.id, uncommitted: held },
        "source paused: its uncommitted window is full while the state store is unreachable",
      );
    }
  }

  /**
   * The batches that count against the source's credits under at-least-once: those not yet
   * acknowledged everywhere and, while the state store is unreachable, also those acknowledged
   * but not yet committed, so what a crash would re-read stops growing until the store is back.
   */
  unsettled(outage: boolean): number {
    if (!outage) return this.ledger.inFlight;
    return Number(this.ledger.lastSequence - this.commits.committedSequence);
  }
}
