import { randomUUID } from "node:crypto";
import { join } from "node:path";
import {
  BatchByteLimit,
  type FlowEvent,
  PermanentError,
  readPackageVersion,
  type SourceDefinition,
} from "@flow/sdk";
import type { JetStreamManager, JsMsg, NatsConnection } from "nats";
import { bindDurable } from "./durable-consumer";
import { messageEvent } from "./message-event";
import { checkpointPosition, parseCheckpoint } from "./nats-checkpoint";
import { connectNats } from "./nats-connection";
import {
  DEFAULT_IN_FLIGHT,
  defaultConsumerName,
  type NatsSourceConfig,
  natsSourceConfigSchema,
} from "./nats-source-config";
import { validateNatsSource } from "./nats-source-validation";

/** One Read stream: the batches it handed out and not yet acknowledged to the broker. */
interface Reader {
  nc: NatsConnection;
  jsm: JetStreamManager;
  stream: string;
  consumer: string;
  /** Batch number → its messages, from the batch yielded until Flow's commit covers it. */
  uncommitted: Map<number, JsMsg[]>;
  /** The consumer's ack floor (a stream sequence) as last seen: every message up to it is committed. */
  floor: number;
  refreshing: boolean;
  refreshAgain: boolean;
}

// Commit notices name the reader their checkpoint came from: a notice for a stream that is gone
// acknowledges nothing (its messages were handed back to the broker, which redelivers them).
const readers = new Map<string, Reader>();

/** Follows the consumer's ack floor after acks; one request at a time, errors leave the old floor. */
async function refreshFloor(reader: Reader): Promise<void> {
  if (reader.refreshing) {
    reader.refreshAgain = true;
    return;
  }
  reader.refreshing = true;
  try {
    do {
      reader.refreshAgain = false;
      // The acks are on the wire before the info request asks about them.
      await reader.nc.flush();
      const info = await reader.jsm.consumers.info(reader.stream, reader.consumer);
      reader.floor = Math.max(reader.floor, info.ack_floor.stream_seq);
    } while (reader.refreshAgain);
  } catch {
    // A conservative floor only means a consumer created anew from it re-reads a little more.
  } finally {
    reader.refreshing = false;
  }
}

/**
 * Reads a JetStream stream through a durable pull consumer with explicit acks, and acknowledges a
 * message only when Flow's commit notice covers the batch that carried it.
 */
export const natsSource: SourceDefinition<NatsSourceConfig> = {
  name: "flow-source-nats",
  // package.json sits one level above src/ and dist/.
  version: readPackageVersion(join(__dirname, "..")),
  description:
    "reads a NATS JetStream stream through a durable pull consumer; acknowledges messages only after Flow commits them",
  configSchema: natsSourceConfigSchema,
  producedEventTypes: [],
  // Redeliveries come after newer messages, so only per-subject order without redeliveries holds.
  features: { checkpointing: true, ordering: "none" },

  validate: (config, context) => validateNatsSource(config, context),

  async *read(config, context) {
    const checkpoint = context.checkpoint ? parseCheckpoint(context.checkpoint) : undefined;
    if (checkpoint && checkpoint.stream !== config.stream) {
      throw new PermanentError(
        `the checkpoint is a position in stream ${checkpoint.stream}, not in ${config.stream}; reset it with flow checkpoints reset`,
      );
    }
    const consumerName = config.consumer ?? defaultConsumerName(context.stageId);
    const batchSize = context.maxBatchSize > 0 ? context.maxBatchSize : 100;
    // The stage's credits (its inFlight) batches: as many as Core lets be unacknowledged.
    const maxAckPending =
      config.maxAckPending ?? (context.credits > 0 ? context.credits : DEFAULT_IN_FLIGHT) * batchSize;
    const nc = await connectNats(config, `flow-source-nats ${context.stageId}`);
    const readerId = randomUUID();
    // Fetched and not yet in a yielded batch (a fetch can bring more than the byte limit admits).
    const backlog: JsMsg[] = [];
    let carried: { event: FlowEvent; message: JsMsg } | undefined;
    let reader: Reader | undefined;
    let keepAlive: NodeJS.Timeout | undefined;
    try {
      const jsm = await nc.jetstreamManager();
      const stream = await jsm.streams.info(config.stream);
      const resumeSequence = checkpoint?.resumeSequence;
      if (resumeSequence !== undefined && resumeSequence - 1 > stream.state.last_seq) {
        throw new PermanentError(
          `the checkpoint resumes stream ${config.stream} at sequence ${resumeSequence}, after its last message (${stream.state.last_seq}): was the stream recreated? Reset the checkpoint with flow checkpoints reset`,
        );
      }
      const info = await bindDurable(
        jsm,
        {
          stream: config.stream,
          name: consumerName,
          filterSubject: config.filterSubject,
          maxAckPending,
          ackWaitMs: config.ackWaitMs,
        },
        config,
        resumeSequence,
      );
      reader = {
        nc,
        jsm,
        stream: config.stream,
        consumer: consumerName,
        uncommitted: new Map(),
        floor: Math.max(info.ack_floor.stream_seq, (resumeSequence ?? 1) - 1),
        refreshing: false,
        refreshAgain: false,
      };
      readers.set(readerId, reader);
      const held = reader.uncommitted;
      // Messages waiting for a commit stay ours: an in-progress ack restarts their ack_wait.
      keepAlive = setInterval(
        () => {
          for (const messages of held.values()) for (const message of messages) message.working();
          for (const message of backlog) message.working();
          carried?.message.working();
        },
        Math.max(300, Math.floor(config.ackWaitMs / 3)),
      );
      keepAlive.unref();

      const consumer = await nc.jetstream().consumers.get(config.stream, consumerName);
      const limit = new BatchByteLimit(context);
      let batchNumber = 0;
      while (!context.signal.aborted) {
        const events = limit.startBatch();
        const messages: JsMsg[] = [];
        if (carried) {
          messages.push(carried.message);
          carried = undefined;
        }
        let cut = false;
        const take = (): void => {
          while (!cut && events.length < batchSize && backlog.length > 0) {
            const message = backlog.shift() as JsMsg;
            const event = messageEvent(message, config.cloudEvents);
            if (!limit.admits(event)) {
              carried = { event, message };
              cut = true;
              return;
            }
            events.push(event);
            messages.push(message);
          }
        };
        take();
        if (!cut && events.length < batchSize) {
          // Waits at most fetchWaitMs; never stopped early, so nothing the server sent goes unseen.
          const fetched = await consumer.fetch({
            max_messages: batchSize - events.length,
            expires: config.fetchWaitMs,
          });
          for await (const message of fetched) backlog.push(message);
          // The stream ended meanwhile: what came goes back to the broker in finally.
          if (context.signal.aborted) break;
          take();
        }
        if (events.length === 0) continue;
        batchNumber += 1;
        held.set(batchNumber, messages);
        const resume = reader.floor + 1;
        yield {
          events,
          checkpoint: {
            position: checkpointPosition({
              stream: config.stream,
              consumer: consumerName,
              resumeSequence: resume,
              reader: readerId,
              batch: batchNumber,
            }),
            description: `stream ${config.stream}, consumer ${consumerName}: batch ${batchNumber}; a new consumer resumes at sequence ${resume}`,
          },
        };
      }
    } finally {
      if (keepAlive) clearInterval(keepAlive);
      readers.delete(readerId);
      // What Flow has not committed goes back to the broker now, not after ack_wait.
      for (const messages of reader?.uncommitted.values() ?? [])
        for (const message of messages) message.nak();
      for (const message of backlog) message.nak();
      carried?.message.nak();
      await nc.drain().catch(() => nc.close());
    }
  },

  onCommit(position) {
    let checkpoint: ReturnType<typeof parseCheckpoint>;
    try {
      checkpoint = parseCheckpoint(position);
    } catch {
      return;
    }
    const reader = readers.get(checkpoint.reader);
    if (!reader) return;
    for (const [batch, messages] of reader.uncommitted) {
      if (batch > checkpoint.batch) continue;
      for (const message of messages) {
        try {
          message.ack();
        } catch {
          // A closed connection: the broker redelivers the message (a duplicate, never a loss).
        }
      }
      reader.uncommitted.delete(batch);
    }
    void refreshFloor(reader);
  },
};
