import { UserError } from "@flow/errors";
import type { FlowEvent } from "@flow/sdk";
import type { Logger } from "pino";
import type { Peer } from "../gen/peer/v1/peer";
import { ConsumerLink, consumerStreams } from "./consumer-link";
import type { Delivery, Origin } from "./delivery";
import type { PipelineMetrics } from "./pipeline-metrics";
import { ProcessorLink, processorStreams } from "./processor-link";
import type { RawBatch } from "./raw-batch";
import type { StageRecord } from "./stage-record";
import type { RunServices } from "./stage-services";

export type StageLink = ProcessorLink | ConsumerLink;

/** What the run does with what the links of its processors and consumers report. */
export interface StageLinkHooks {
  processed(
    record: StageRecord,
    origins: Origin[],
    batch: RawBatch,
    letters: { event: FlowEvent; reason: string }[],
  ): void;
  written(record: StageRecord, origins: Origin[], batch: RawBatch): void;
  giveUp(record: StageRecord, delivery: Delivery, reason: string): void;
  fatal(error: Error): void;
  /**
   * Events sent by reference were lost (see LinkHooks.onRefLost): the run's data-plane restart.
   * Links opened without peers (`flow test`) never see references: absent, such a loss is fatal.
   */
  refLost?(reason: string): void;
}

export interface StageLinkParts {
  services: Pick<RunServices, "endpoint">;
  logger: Logger;
  metrics?: PipelineMetrics;
  /** How each family's stream is opened (gRPC unless a test passes fakes). */
  processorStreams?: typeof processorStreams;
  consumerStreams?: typeof consumerStreams;
  /** The stages a processor pushes its output to on the direct data path (see direct-edges.ts); none when absent. */
  peers?: (record: StageRecord) => Peer[];
  /** Whether an upstream pushes its output to the stage on the direct data path; never when absent. */
  pushedTo?: (record: StageRecord) => boolean;
}

/** Builds and opens the link of every processor and consumer, each kept on its stage's record. */
export function openStageLinks(
  records: Iterable<StageRecord>,
  parts: StageLinkParts,
  hooks: StageLinkHooks,
): StageLink[] {
  const links: StageLink[] = [];
  for (const record of records) {
    const { stage } = record;
    if (stage.family === "source") continue;
    const common = {
      stage,
      endpoint: parts.services.endpoint(stage.id),
      logger: parts.logger,
      limit: record.limit,
      pushedTo: () => parts.pushedTo?.(record) ?? false,
    };
    const { metrics } = parts;
    const linkHooks = {
      onFatal: hooks.fatal,
      onRefLost: (reason: string) =>
        hooks.refLost ? hooks.refLost(reason) : hooks.fatal(new UserError(reason)),
      onGiveUp: (delivery: Delivery, reason: string) => {
        metrics?.observeOutcome(stage.id, "failed", reason);
        hooks.giveUp(record, delivery, reason);
      },
      onAnswered: metrics
        ? (seconds: number, batch: RawBatch) => metrics.observeBatch(stage.id, stage.family, seconds, batch)
        : undefined,
      onSent: () => {
        record.counters.batchesIn += 1;
      },
    };
    record.link =
      stage.family === "processor"
        ? new ProcessorLink(
            {
              ...common,
              openStream: parts.processorStreams ?? processorStreams,
              peers: () => parts.peers?.(record) ?? [],
            },
            {
              ...linkHooks,
              onOutput: (origins, batch, letters) => {
                metrics?.observeOutcome(stage.id, "processed");
                hooks.processed(record, origins, batch, letters);
              },
            },
          )
        : new ConsumerLink(
            { ...common, openStream: parts.consumerStreams ?? consumerStreams },
            {
              ...linkHooks,
              onWritten: (origins, batch) => {
                metrics?.observeOutcome(stage.id, "written");
                hooks.written(record, origins, batch);
              },
            },
          );
    record.link.open();
    links.push(record.link);
  }
  return links;
}

/**
 * Closes the links once every batch is answered (or dead-lettered), which is quick when the
 * sources are done; a service that still holds its stream open (hung in a write) is cut off after
 * the longest ack timeout rather than hanging the run.
 */
export async function closeStageLinks(links: readonly StageLink[]): Promise<void> {
  const limit = Math.max(1000, ...links.map((link) => link.stage.settings.timeouts.ackMs));
  let timer: NodeJS.Timeout | undefined;
  const cutOff = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      for (const link of links) link.abort();
      resolve();
    }, limit);
  });
  await Promise.race([Promise.all(links.map((link) => link.close())), cutOff]);
  clearTimeout(timer);
}

/** How often to look for batches unanswered past their ack timeout: half the shortest, within 50 ms..1 s. */
export function overdueCheckIntervalMs(links: readonly StageLink[]): number {
  const ackMs = links.map((link) => link.stage.settings.timeouts.ackMs).filter((ms) => ms > 0);
  return Math.max(50, Math.min(1000, Math.min(...ackMs) / 2));
}
