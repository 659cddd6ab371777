import type { Logger } from "pino";

/** What the restart resets: every processor's and consumer's link. */
export interface ResettableLink {
  reset(): void;
}

export interface DataPlaneRestartParts {
  /** The run's links as they are now (a reload replaces some). */
  links: () => Iterable<ResettableLink>;
  /** The sources re-read what was in flight (at-least-once), or just get credits again (at-most-once). */
  sources: { restartData(): void };
  logger: Logger;
}

/**
 * The direct data path's answer to losing bytes Core never held. On a direct edge the events of
 * a batch live only in the stages (the upstream pushed them to the downstream's Ingest; Core
 * carries a reference), so when a stage holding such a batch crashes or hangs, or a downstream
 * says the bytes a reference names never arrived, Core cannot replay it as it replays a batch it
 * holds. Instead the whole data plane restarts: every link forgets its deliveries and opens a
 * fresh stream (a crashed service is restarted as usual), and every source is reopened from its
 * committed checkpoint, so what was in flight is read again. Nothing is lost under at-least-once
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
    try {
      for (const link of this.parts.links()) link.reset();
      this.parts.sources.restartData();
    } finally {
      this.restarting = false;
    }
  }
}
