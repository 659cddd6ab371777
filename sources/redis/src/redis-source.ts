import { join } from "node:path";
import {
  BatchByteLimit,
  type ConfigIssue,
  errorIssue,
  type FlowEvent,
  PermanentError,
  readPackageVersion,
  redactedUrl,
  type SourceDefinition,
  serviceLogger,
} from "@flow/sdk";
import {
  acknowledgeCommitted,
  checkResumedPosition,
  encodePosition,
  InFlightEntries,
} from "./acknowledgements";
import { ConsumerGroup, type Delivery } from "./consumer-group";
import { type RedisSourceConfig, redisSourceConfigSchema } from "./redis-source-config";
import { type PlainEntryShape, streamEntryEvent } from "./stream-entry-event";

const DEFAULT_BATCH_SIZE = 100;
const logger = serviceLogger("flow-source-redis");

export const redisSource: SourceDefinition<RedisSourceConfig> = {
  name: "flow-source-redis",
  version: readPackageVersion(join(__dirname, "..")),
  description:
    "Reads a Redis stream as a consumer group; XACKs entries only once Core has committed them, reclaims a crashed consumer's pending entries",
  configSchema: redisSourceConfigSchema,
  features: { checkpointing: true, ordering: "none" },

  async validate(config, { stageId }) {
    return checkGroup(config, consumerName(config, stageId));
  },

  async *read(config, context) {
    checkResumedPosition(context.checkpoint);
    const consumer = consumerName(config, context.stageId);
    const group = await ConsumerGroup.connect({ ...config, consumer });
    const onAbort = (): void => group.close();
    context.signal.addEventListener("abort", onAbort, { once: true });
    const inFlight = new InFlightEntries(group);
    try {
      if (config.createGroup) await group.create(config.startId);
      const deliveries = new Deliveries(group, config, inFlight);
      const shape: PlainEntryShape = {
        stream: config.stream,
        payloadField: config.payloadField,
        source: config.source ?? `/redis/${config.stream}`,
        type: config.type,
      };
      const maxSize = context.maxBatchSize > 0 ? context.maxBatchSize : DEFAULT_BATCH_SIZE;
      const limit = new BatchByteLimit(context);
      let held: string | undefined;
      let batch = 0;
      while (!context.signal.aborted) {
        const events: FlowEvent[] = limit.startBatch();
        const ids = held === undefined ? [] : [held];
        held = undefined;
        const taken = await deliveries.next(maxSize - events.length, events.length === 0);
        for (const [index, delivery] of taken.entries()) {
          const event = streamEntryEvent(delivery.entry, delivery.deliveryCount, shape);
          if (!limit.admits(event)) {
            // The limit keeps the event to begin the next batch; its entry stays pending meanwhile.
            held = delivery.entry.id;
            deliveries.putBack(taken.slice(index + 1));
            break;
          }
          events.push(event);
          ids.push(delivery.entry.id);
        }
        if (events.length === 0) continue;
        batch += 1;
        inFlight.add(batch, ids);
        const lastId = ids[ids.length - 1] ?? "";
        yield {
          events,
          checkpoint: {
            position: encodePosition({
              kind: "redis-stream",
              run: inFlight.run,
              batch,
              stream: config.stream,
              group: config.group,
              consumer,
              lastId,
            }),
            description: `${config.stream} ${config.group}/${consumer} up to entry ${lastId}`,
          },
        };
      }
    } catch (error) {
      if (context.signal.aborted) return;
      if (/NOGROUP/.test((error as Error).message))
        throw new PermanentError(
          `consumer group ${config.group} of stream ${config.stream} does not exist (create it, or set createGroup: true)`,
        );
      throw error;
    } finally {
      context.signal.removeEventListener("abort", onAbort);
      inFlight.release();
      group.close();
    }
  },

  async onCommit(position) {
    try {
      await acknowledgeCommitted(position);
    } catch (error) {
      // Not lost: the entries stay pending and are read again (a duplicate, same event id).
      logger.warn(
        { err: (error as Error).message },
        "XACK of committed entries failed; they will be read again",
      );
    }
  },
};

/**
 * Where the next entries come from, in order: entries taken but not yet emitted; this consumer's
 * own pending entries (once, when the stream starts: what a crashed run was given and never
 * committed); entries idle for claimIdleMs in any consumer's pending list (scanned again every
 * claimIdleMs); new entries.
 */
class Deliveries {
  private readonly queue: Delivery[] = [];
  private pendingCursor: string | undefined = "0";
  private claimCursor = "0-0";
  private nextClaimAt = 0;

  constructor(
    private readonly group: ConsumerGroup,
    private readonly config: RedisSourceConfig,
    private readonly inFlight: InFlightEntries,
  ) {}

  /** Deliveries taken but not emitted yet: the next ones. */
  putBack(deliveries: Delivery[]): void {
    this.queue.unshift(...deliveries);
  }

  /** Up to `count` deliveries; waits up to blockMs for new entries only when `wait`. */
  async next(count: number, wait: boolean): Promise<Delivery[]> {
    if (count <= 0) return [];
    if (this.queue.length > 0) return this.queue.splice(0, count);
    if (this.pendingCursor !== undefined) {
      const own = await this.group.readOwnPending(this.pendingCursor, count);
      const last = own[own.length - 1];
      this.pendingCursor = last === undefined ? undefined : last.entry.id;
      if (own.length > 0) return own;
    }
    const claimed = await this.claim(count);
    if (claimed.length > 0) return claimed;
    return this.group.readNew(count, wait ? this.config.blockMs : undefined);
  }

  private async claim(count: number): Promise<Delivery[]> {
    if (this.config.claimIdleMs <= 0 || Date.now() < this.nextClaimAt) return [];
    const { deliveries, cursor } = await this.group.claimIdle(
      this.claimCursor,
      this.config.claimIdleMs,
      count,
    );
    this.claimCursor = cursor;
    if (cursor === "0-0") this.nextClaimAt = Date.now() + this.config.claimIdleMs;
    // Entries this stream itself holds uncommitted are already on their way; not twice.
    return deliveries.filter((delivery) => !this.inFlight.holds(delivery.entry.id));
  }
}

function consumerName(config: RedisSourceConfig, stageId: string): string {
  return config.consumer ?? (stageId || "flow-source-redis");
}

/** Reaches the server: an unreachable server, a missing stream or group, each at its field. */
async function checkGroup(config: RedisSourceConfig, consumer: string): Promise<ConfigIssue[]> {
  let group: ConsumerGroup;
  try {
    group = await ConsumerGroup.connect({ ...config, consumer, connectTimeoutMs: 3000 });
  } catch (error) {
    return [errorIssue("/url", (error as Error).message)];
  }
  try {
    const found = await group.describe();
    if (config.createGroup) return [];
    if (!found.stream)
      return [
        errorIssue(
          "/stream",
          `stream ${config.stream} does not exist on ${redactedUrl(config.url)} (or set createGroup: true)`,
        ),
      ];
    if (!found.group)
      return [
        errorIssue(
          "/group",
          `stream ${config.stream} has no consumer group ${config.group} (create it, or set createGroup: true)`,
        ),
      ];
    return [];
  } catch (error) {
    return [errorIssue("/stream", (error as Error).message)];
  } finally {
    group.close();
  }
}
