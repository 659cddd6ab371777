import { redactedUrl } from "@flow/sdk";
import Redis from "ioredis";
import type { StreamEntry } from "./stream-entry-event";

/** An entry delivered to this consumer, with how often the group has delivered it so far. */
export interface Delivery {
  entry: StreamEntry;
  deliveryCount: number;
}

export interface ConsumerGroupOptions {
  url: string;
  stream: string;
  group: string;
  consumer: string;
  connectTimeoutMs?: number;
}

/**
 * One consumer of a Redis consumer group over its own connection. A lost connection is not
 * retried: every command then fails, and the source's stream fails with it, so Core restarts the
 * source, which reads its own pending entries again first. Nothing is acknowledged here on
 * receipt; `ack` is called once Core has committed.
 */
export class ConsumerGroup {
  private constructor(
    private readonly redis: Redis,
    readonly options: ConsumerGroupOptions,
  ) {}

  static async connect(options: ConsumerGroupOptions): Promise<ConsumerGroup> {
    const redis = new Redis(options.url, {
      // RESP2 replies: XREADGROUP's list of [key, entries] pairs, as the command reference shows
      // them (ioredis 6 speaks RESP3 by default, where that reply is a map).
      protocol: 2,
      lazyConnect: true,
      connectTimeout: options.connectTimeoutMs ?? 5000,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      retryStrategy: () => null,
    });
    // Without a listener a lost connection would be an unhandled 'error' event; the failure
    // reaches the source through the command that fails.
    redis.on("error", () => undefined);
    try {
      await redis.connect();
    } catch (error) {
      redis.disconnect();
      throw new Error(`cannot connect to ${redactedUrl(options.url)}: ${(error as Error).message}`);
    }
    return new ConsumerGroup(redis, options);
  }

  /** Creates the group (and the stream) unless it exists; true when it was created. */
  async create(startId: string): Promise<boolean> {
    try {
      await this.redis.call("XGROUP", "CREATE", this.options.stream, this.options.group, startId, "MKSTREAM");
      return true;
    } catch (error) {
      if (/BUSYGROUP/.test((error as Error).message)) return false;
      throw error;
    }
  }

  /** Whether the stream exists and, if it does, whether the group does. */
  async describe(): Promise<{ stream: boolean; group: boolean }> {
    const type = await this.redis.type(this.options.stream);
    if (type === "none") return { stream: false, group: false };
    if (type !== "stream") throw new Error(`${this.options.stream} is a ${type}, not a stream`);
    const groups = (await this.redis.call("XINFO", "GROUPS", this.options.stream)) as unknown[][];
    const names = groups.map((group) => String(group[group.indexOf("name") + 1]));
    return { stream: true, group: names.includes(this.options.group) };
  }

  /**
   * Entries of this consumer's own pending list after `afterId` (XREADGROUP with an id): what it
   * was delivered before and never acknowledged, e.g. by the process before a crash.
   */
  async readOwnPending(afterId: string, count: number): Promise<Delivery[]> {
    const entries = await this.readGroup(afterId, count, undefined);
    return this.withDeliveryCounts(entries);
  }

  /** New entries (XREADGROUP with `>`), waiting up to blockMs for the first one (undefined: not at all). */
  async readNew(count: number, blockMs: number | undefined): Promise<Delivery[]> {
    const entries = await this.readGroup(">", count, blockMs);
    return entries.map((entry) => ({ entry, deliveryCount: 1 }));
  }

  /**
   * Entries pending longer than minIdleMs for any consumer of the group, now this one's
   * (XAUTOCLAIM from `cursor`). Returns them and the cursor to go on from ("0-0": scanned through).
   */
  async claimIdle(
    cursor: string,
    minIdleMs: number,
    count: number,
  ): Promise<{ deliveries: Delivery[]; cursor: string }> {
    const reply = (await this.redis.callBuffer(
      "XAUTOCLAIM",
      this.options.stream,
      this.options.group,
      this.options.consumer,
      minIdleMs,
      cursor,
      "COUNT",
      count,
    )) as [Buffer, RawEntry[], ...unknown[]];
    const entries = reply[1].flatMap(toEntry);
    return { deliveries: await this.withDeliveryCounts(entries), cursor: reply[0].toString() };
  }

  async ack(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.redis.call("XACK", this.options.stream, this.options.group, ...ids);
  }

  close(): void {
    this.redis.disconnect();
  }

  private async readGroup(id: string, count: number, blockMs: number | undefined): Promise<StreamEntry[]> {
    const block = blockMs === undefined ? [] : ["BLOCK", blockMs];
    const reply = (await this.redis.callBuffer(
      "XREADGROUP",
      "GROUP",
      this.options.group,
      this.options.consumer,
      "COUNT",
      count,
      ...block,
      "STREAMS",
      this.options.stream,
      id,
    )) as [Buffer, RawEntry[]][] | null;
    const entries = reply?.[0]?.[1] ?? [];
    // An entry deleted (XDEL) while pending comes back without fields: nothing is left to deliver,
    // so it is acknowledged now rather than read again forever.
    const deleted = entries.filter((raw) => raw[1] === null).map((raw) => raw[0].toString());
    await this.ack(deleted);
    return entries.flatMap(toEntry);
  }

  /** How often each entry (pending for this consumer) has been delivered, from XPENDING. */
  private async withDeliveryCounts(entries: StreamEntry[]): Promise<Delivery[]> {
    if (entries.length === 0) return [];
    const counts = new Map<string, number>();
    const first = entries[0]?.id ?? "-";
    const last = entries[entries.length - 1]?.id ?? "+";
    // The range may hold other pending entries of this consumer between the two; read past them.
    let start = first;
    for (;;) {
      const rows = (await this.redis.call(
        "XPENDING",
        this.options.stream,
        this.options.group,
        start,
        last,
        1000,
        this.options.consumer,
      )) as [string, string, number, number][];
      for (const [id, , , count] of rows) counts.set(id, count);
      if (rows.length < 1000) break;
      start = `(${rows[rows.length - 1]?.[0]}`;
    }
    return entries.map((entry) => ({ entry, deliveryCount: counts.get(entry.id) ?? 1 }));
  }
}

type RawEntry = [id: Buffer, fields: Buffer[] | null];

function toEntry(raw: RawEntry): StreamEntry[] {
  const [id, flat] = raw;
  if (flat === null) return [];
  const fields: StreamEntry["fields"] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) fields.push([String(flat[i]), flat[i + 1] as Buffer]);
  return [{ id: id.toString(), fields }];
}
