import type { Logger } from "pino";

/** What the restart resets: every processor's and consumer's link (batch-link.ts). */
export interface ResettableLink {
  /** Forgets every delivery and drops the stream until `reset`. */
  suspend(): void;
  /** Settles once the link's endpoint is not being recovered. */
  recovered(): Promise<void>;
  /** Forgets every delivery and opens a fresh stream. */
  reset(): void;
}

export interface DataPlaneRestartParts {
  /** The run's links as they are now (a reload replaces some). */
  links: () => Iterable<ResettableLink>;
  /**
   * The sources re-read what was in flight (at-least-once), or just get credits again
   * (at-most-once), once `ready` settles: they stop at once and go on only then.
   */
  sources: { restartData(ready: Promise<void>): void };
  logger: Logger;
}

/**
 * The direct data path's answer to losing bytes Core never held. On a direct edge the events of
 * a batch live only in the stages (the upstream pushed them to the downstream's Ingest; Core
 * carries a reference), so when a stage holding such a batch crashes or hangs, or a downstream
 * says the bytes a reference names never arrived, Core cannot replay it as it replays a batch it
 * holds. Instead the whole data plane restarts: every link forgets its deliveries and opens a
 * fresh stream (a crashed service is restarted as usual), and every source is reopened from its
 * committed checkpoint, so what was in flight is read again. The fresh streams wait until every
 * service being restarted is up: an upstream opened earlier would be named the old process as its
 * peer, and the batches it pushed there would reach Core as references the new process never got
 * the bytes of, so it would hang again. Nothing is lost under at-least-once
 * (a checkpoint only commits once everything before it was written); the cost is re-reading at
 * most each source's credits' worth of batches, which may reach a sink twice.
 */
export class DataPlaneRestart {
  private restarting = false;
  /** Restarts so far in this run. */
  count = 0;

  constructor(private readonly parts: DataPlaneRestartParts) {}

  /** Restarts the data plane because of `reason` (a restart already under way takes it in). */
  restart(reason: string): void {
    if (this.restarting) return;
    this.count += 1;
    this.parts.logger.warn(
      { reason, restarts: this.count },
      "direct data path: batches Core does not hold were lost; every stage's stream restarts and the sources read what was in flight again from their checkpoints",
    );
    this.reopen();
  }

  /**
   * After a reload, whose quiesce left nothing in flight: every stream reopens, so each upstream
   * is named the peers of the pipeline as it is now (a replaced stage listens somewhere else).
   * What the sources sent during the pause is read again from their checkpoints.
   */
  reloaded(): void {
    if (this.restarting) return;
    this.parts.logger.info("reload: the direct data path's streams reopen with the new pipeline's peers");
    this.reopen();
  }

  private reopen(): void {
    this.restarting = true;
    const links = [...this.parts.links()];
    for (const link of links) link.suspend();
    const ready = Promise.all(links.map((link) => link.recovered())).then(() => {
      for (const link of this.parts.links()) link.reset();
      this.restarting = false;
    });
    this.parts.sources.restartData(ready);
  }
}
