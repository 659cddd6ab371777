import type { UserError } from "@flow/errors";
import type { Logger } from "pino";
import type { Peer } from "../gen/peer/v1/peer";
import type { StateStore } from "../state";
import type { LinkEndpoint } from "./link-stream";
import type { RawBatch } from "./raw-batch";
import { SourceCommits } from "./source-commits";
import type { Checkpointed } from "./source-ledger";
import { SourceLink, type SourceLinkParts } from "./source-link";
import { SourceNode } from "./source-node";
import type { StageRecord } from "./stage-record";
import type { StoreOutage } from "./store-outage";

export interface SourceNodeParts {
  pipeline: string;
  store: Pick<StateStore, "commitCheckpoint">;
  logger: Logger;
  outage: StoreOutage;
  endpoint: LinkEndpoint;
  openStream: SourceLinkParts["openStream"];
  /** The run's commit interval: a source's own `commitIntervalMs` setting, when it has one, wins. */
  commitIntervalMs: number;
  runId: () => string;
  syncDeadLetters: () => void;
  /** The stages the source pushes its batches to directly (see SourceLinkParts.peers). */
  peers?: () => Peer[];
}

/** What a source's stream and commits report, each with the source's node. */
export interface SourceNodeHooks {
  /** A batch arrived (its credit is counted used already). */
  onBatch(source: SourceNode, sequence: bigint, batch: RawBatch, checkpoint: Checkpointed): void;
  onExhausted(source: SourceNode): void;
  onBroken(source: SourceNode, reason: string, permanent: boolean): void;
  /** A commit failed for good (not an outage that could be waited out). */
  onCommitFailed(error: UserError): void;
  /** A commit finished or stopped waiting. */
  onCommitSettled(source: SourceNode): void;
}

/**
 * Puts a source's node together: its stream (SourceLink, with the stage's negotiated batch byte
 * limit) and its commits (SourceCommits, at the stage's own commit interval or else the run's), a
 * checkpoint made durable being told to the source.
 */
export function assembleSourceNode(
  record: StageRecord,
  parts: SourceNodeParts,
  hooks: SourceNodeHooks,
): SourceNode {
  const { stage } = record;
  let source: SourceNode | undefined;
  const node = (): SourceNode => source as SourceNode;
  const link = new SourceLink(
    {
      stage,
      endpoint: parts.endpoint,
      openStream: parts.openStream,
      logger: parts.logger,
      maxBatchBytes: record.limit.maxBytes,
      peers: parts.peers,
    },
    {
      onBatch: (sequence, batch, checkpoint) => {
        node().usedCredit();
        hooks.onBatch(node(), sequence, batch, checkpoint);
      },
      onExhausted: () => hooks.onExhausted(node()),
      onBroken: (reason, permanent) => hooks.onBroken(node(), reason, permanent),
    },
  );
  const commits = new SourceCommits({
    pipeline: parts.pipeline,
    sourceId: stage.id,
    store: parts.store,
    outage: parts.outage,
    intervalMs: stage.settings.commitIntervalMs ?? parts.commitIntervalMs,
    runId: parts.runId,
    syncDeadLetters: parts.syncDeadLetters,
    onCommitted: (sequence, checkpoint) => link.commit(sequence, checkpoint),
    onFailed: (error) => hooks.onCommitFailed(error),
    onSettled: () => hooks.onCommitSettled(node()),
  });
  source = new SourceNode(stage, link, commits, parts.logger);
  return source;
}
