import { randomUUID } from "node:crypto";
import { PermanentError } from "@flow/sdk";
import type { ConsumerGroup } from "./consumer-group";

/**
 * A checkpoint of this source: which read stream handed the batch out (`run`), the batch's number
 * in it, and where it was read. Redis's consumer group, not the checkpoint, says what is left to
 * read; the checkpoint only lets a commit notice find the entries it covers.
 */
export interface RedisPosition {
  kind: "redis-stream";
  run: string;
  batch: number;
  stream: string;
  group: string;
  consumer: string;
  lastId: string;
}

export function encodePosition(position: RedisPosition): Buffer {
  return Buffer.from(JSON.stringify(position), "utf8");
}

/** The position, or undefined when it is not one this source wrote. */
export function decodePosition(bytes: Buffer): RedisPosition | undefined {
  try {
    const value = JSON.parse(bytes.toString("utf8")) as Partial<RedisPosition>;
    if (value.kind === "redis-stream" && typeof value.run === "string" && typeof value.batch === "number")
      return value as RedisPosition;
  } catch {}
  return undefined;
}

/** A checkpoint handed to read(): fails the stream for good when it is not this source's. */
export function checkResumedPosition(bytes: Buffer | undefined): RedisPosition | undefined {
  if (bytes === undefined) return undefined;
  const position = decodePosition(bytes);
  if (!position)
    throw new PermanentError(
      "the checkpoint is not one flow-source-redis wrote; reset it (flow checkpoints reset) to read this stage with this source",
    );
  return position;
}

/**
 * The entries one read stream has handed out and not yet acknowledged, batch by batch. A commit
 * notice for batch n (Core committed it and everything before it) XACKs every entry of batches
 * up to n. Entries never committed stay pending in the group: after a crash or a cut stream they
 * are read again (by this consumer name first, or reclaimed by another after claimIdleMs).
 */
export class InFlightEntries {
  readonly run = randomUUID();
  private readonly batches = new Map<number, string[]>();
  private readonly ids = new Set<string>();

  constructor(private readonly group: ConsumerGroup) {
    runs.set(this.run, this);
  }

  holds(id: string): boolean {
    return this.ids.has(id);
  }

  add(batch: number, ids: string[]): void {
    this.batches.set(batch, ids);
    for (const id of ids) this.ids.add(id);
  }

  async commit(batch: number): Promise<void> {
    const ids: string[] = [];
    for (const [number, batchIds] of this.batches) {
      if (number > batch) continue;
      this.batches.delete(number);
      ids.push(...batchIds);
    }
    try {
      await this.group.ack(ids);
    } finally {
      // Unacknowledged after a failure, they are pending again like any other: reclaimable.
      for (const id of ids) this.ids.delete(id);
    }
  }

  /** The stream ended: what was not committed stays pending in Redis, to be read again. */
  release(): void {
    runs.delete(this.run);
  }
}

const runs = new Map<string, InFlightEntries>();

/** Acknowledges what a commit notice covers, if the stream that handed it out is still open. */
export async function acknowledgeCommitted(positionBytes: Buffer): Promise<void> {
  const position = decodePosition(positionBytes);
  if (position) await runs.get(position.run)?.commit(position.batch);
}
