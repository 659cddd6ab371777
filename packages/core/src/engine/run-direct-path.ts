import type { Logger } from "pino";
import type { Peer } from "../gen/peer/v1/peer";
import { type DirectPathParts, directEdges, directPeers, isPushedTo } from "./direct-edges";
import type { RunStages } from "./run-stages";
import type { StageRecord } from "./stage-record";
import type { RunServices } from "./stage-services";

export interface RunDirectPathParts {
  stages: RunStages;
  services: Pick<RunServices, "endpoint">;
  logger: Logger;
  /**
   * Spans are recorded per batch (an OTLP endpoint is configured): each needs its events' trace
   * contexts, which Core reads only from batches that go through it, so the run keeps every batch
   * there.
   */
  traces?: boolean;
}

/**
 * The run's direct data path as it is now (direct-edges.ts decides an edge): the peers each
 * upstream's stream opens with, the start's log of which edges are direct, and whether a reload
 * must reopen the streams so every upstream is named its new peers.
 */
export class RunDirectPath {
  /** Some edge was direct at the start or after the last reload. */
  private directBefore = false;

  constructor(private readonly parts: RunDirectPathParts) {}

  /** The peers a source's or a processor's stream opens with: asked at each open, from the run as it is then. */
  peersOf(record: StageRecord): Peer[] {
    return directPeers(record, this.edgeParts);
  }

  /** Some upstream pushes its output to the stage (see isPushedTo). */
  pushedTo(record: StageRecord): boolean {
    return isPushedTo(record, this.parts.stages.records.values(), this.edgeParts);
  }

  /** The services are negotiated: says which edges are direct. */
  started(): void {
    const { logger, stages } = this.parts;
    if (!stages.plan.directPath) {
      logger.info("direct data path off: every batch goes through Core");
      return;
    }
    if (this.parts.traces) {
      logger.info(
        "direct data path off while tracing: a batch's span needs its events' trace contexts, which Core reads only from batches that go through it",
      );
      return;
    }
    const edges = this.edges();
    this.directBefore = edges.length > 0;
    logger.info({ edges }, edges.length > 0 ? "direct data path" : "direct data path: no edge can use it");
  }

  /** A reload applied: whether the streams must reopen (an edge is direct now, or was: an upstream may name a stage that left). */
  reloaded(): boolean {
    const direct = this.edges().length > 0;
    const reopen = direct || this.directBefore;
    this.directBefore = direct;
    return reopen;
  }

  private edges(): string[] {
    const { stages } = this.parts;
    return this.enabled ? directEdges(stages.records.values(), this.edgeParts) : [];
  }

  private get enabled(): boolean {
    return this.parts.stages.plan.directPath && !this.parts.traces;
  }

  /** The switch and the services, as deciding the direct edges needs them. */
  private get edgeParts(): DirectPathParts {
    return { enabled: this.enabled, endpoint: (id) => this.parts.services.endpoint(id) };
  }
}
