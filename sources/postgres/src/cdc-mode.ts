import { BatchByteLimit, type FlowEvent, type ReadContext, type SourceOutput } from "@flow/sdk";
import {
  type CdcPosition,
  decodeCdcCheckpoint,
  encodeCdcCheckpoint,
  resumedCdcPosition,
} from "./cdc-checkpoint";
import { type ChangeEventShape, changeEvent, isChange, type TransactionInfo } from "./change-event";
import { formatLsn, type Lsn, parseLsn } from "./lsn";
import { databaseOf, type PostgresSourceConfig } from "./postgres-source-config";
import { prepareReplication } from "./replication-setup";
import { ReplicationStream } from "./replication-stream";

const DEFAULT_BATCH_SIZE = 500;

/** The open replication stream of each slot (the server lets one connection stream a slot at a time). */
const streams = new Map<string, ReplicationStream>();

/** A transaction being read: its changes are counted from 0, the count being part of each event id. */
interface OpenTransaction extends TransactionInfo {
  next: number;
  /** Changes before this ordinal were emitted by a committed batch already (a resumed partial one). */
  emitFrom: number;
}

/**
 * cdc mode: the slot's changes in commit order, batch by batch. A batch may end inside a
 * transaction; its checkpoint then says how many of that transaction's changes it holds, and the
 * slot is confirmed only up to the end of the last whole transaction committed before it.
 */
export async function* readChanges(
  config: PostgresSourceConfig,
  context: ReadContext,
): AsyncGenerator<SourceOutput> {
  const slot = config.slot ?? "";
  const resumed = resumedCdcPosition(context.checkpoint, slot);
  const prepared = await prepareReplication(config);
  const resumeAfter = resumed?.lsn ?? 0n;
  // The server resumes after the slot's confirmed position or the one asked for, whichever is further.
  const start = maxLsn(resumeAfter, prepared.confirmedFlush ?? 0n);
  const maxSize = context.maxBatchSize > 0 ? context.maxBatchSize : DEFAULT_BATCH_SIZE;
  const stream = new ReplicationStream({
    url: config.url,
    slot,
    publication: config.publication ?? "",
    start,
    statusIntervalMs: config.statusIntervalMs,
    highWater: maxSize * 2,
  });
  const onAbort = (): void => void stream.close();
  context.signal.addEventListener("abort", onAbort, { once: true });
  const shape: ChangeEventShape = {
    slot,
    database: databaseOf(config.url),
    ...(config.source ? { source: config.source } : {}),
  };
  try {
    await stream.start();
    streams.set(slot, stream);
    const limit = new BatchByteLimit(context);
    let emitted: CdcPosition = { slot, lsn: start };
    let heldPosition: CdcPosition | undefined;
    let transaction: OpenTransaction | undefined;
    let lingerUntil = 0;
    while (!context.signal.aborted) {
      const events: FlowEvent[] = limit.startBatch();
      if (events.length > 0 && heldPosition) emitted = heldPosition;
      heldPosition = undefined;
      lingerUntil = Date.now() + context.lingerMs;
      for (;;) {
        // A batch begun waits until lingerMs after its first event for more; a full one still
        // takes a commit right behind it, so that its checkpoint is a whole transaction's end
        // rather than a count inside it.
        if (events.length > 0) {
          if (events.length >= maxSize) {
            if (stream.peek()?.message.tag !== "commit") break;
          } else if (!(await stream.arrives(lingerUntil - Date.now()))) break;
        }
        const { lsn, message } = await stream.next();
        if (events.length === 0) lingerUntil = Date.now() + context.lingerMs;
        if (message.tag === "begin") {
          const commitLsn = parseLsn(message.commitLsn ?? "0/0");
          const partial = resumed?.partial?.commitLsn === commitLsn ? resumed.partial.emitted : 0;
          transaction = {
            commitLsn,
            commitTimeMicros: message.commitTime as bigint,
            next: 0,
            // A transaction whose commit record starts before the resume position ends at or
            // before it: wholly committed already.
            emitFrom: commitLsn < resumeAfter ? Number.POSITIVE_INFINITY : partial,
          };
          continue;
        }
        if (message.tag === "commit") {
          if (transaction && transaction.emitFrom !== Number.POSITIVE_INFINITY)
            emitted = { slot, lsn: parseLsn(message.commitEndLsn ?? formatLsn(lsn)) };
          transaction = undefined;
          continue;
        }
        if (!isChange(message)) continue;
        if (!transaction) throw new Error(`a ${message.tag} at ${formatLsn(lsn)} came outside a transaction`);
        const ordinal = transaction.next++;
        if (ordinal < transaction.emitFrom) continue;
        const event = changeEvent(message, transaction, ordinal, lsn, shape);
        const after: CdcPosition = {
          slot,
          lsn: emitted.lsn,
          partial: { commitLsn: transaction.commitLsn, emitted: ordinal + 1 },
        };
        if (!limit.admits(event)) {
          // The limit keeps the event to begin the next batch, with the position after it.
          heldPosition = after;
          break;
        }
        events.push(event);
        emitted = after;
      }
      yield {
        events,
        checkpoint: { position: encodeCdcCheckpoint(emitted), description: describe(emitted) },
      };
    }
  } catch (error) {
    if (context.signal.aborted) return;
    throw error;
  } finally {
    context.signal.removeEventListener("abort", onAbort);
    if (streams.get(slot) === stream) streams.delete(slot);
    await stream.close();
  }
}

/**
 * Core committed the checkpoint `position`: the slot may be confirmed up to its whole
 * transactions. Any stream of the slot may take it (a committed position is committed whichever
 * stream handed it out); one further along already ignores it.
 */
export function confirmCommitted(position: Buffer): void {
  const committed = decodeCdcCheckpoint(position);
  if (committed) streams.get(committed.slot)?.confirm(committed.lsn);
}

function maxLsn(a: Lsn, b: Lsn): Lsn {
  return a > b ? a : b;
}

function describe(position: CdcPosition): string {
  const partial = position.partial
    ? ` and ${position.partial.emitted} changes of the transaction committed at ${formatLsn(position.partial.commitLsn)}`
    : "";
  return `slot ${position.slot}: transactions up to ${formatLsn(position.lsn)}${partial}`;
}
