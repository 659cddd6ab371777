import { join } from "node:path";
import {
  BatchByteLimit,
  type FlowEvent,
  PermanentError,
  readPackageVersion,
  type SourceDefinition,
  serviceLogger,
} from "@flow/sdk";
import { brokerIssues, connectionProblem } from "./broker-checks";
import { decodeDeliveryPosition, encodeDeliveryPosition } from "./delivery-position";
import { DeliverySession } from "./delivery-session";
import { type MessageDefaults, messageEvent } from "./message-event";
import {
  DEFAULT_PREFETCH_BATCHES,
  type RabbitmqSourceConfig,
  rabbitmqSourceConfigSchema,
} from "./rabbitmq-source-config";

const NAME = "flow-source-rabbitmq";
const log = serviceLogger(NAME);

/** Open streams by session id: a commit notice names its session inside its checkpoint. */
const sessions = new Map<string, DeliverySession>();

export const rabbitmqSource: SourceDefinition<RabbitmqSourceConfig> = {
  name: NAME,
  version: readPackageVersion(join(__dirname, "..")),
  description:
    "Consumes a RabbitMQ queue with manual acknowledgements; acknowledges a message only once Flow has committed the batch holding it",
  configSchema: rabbitmqSourceConfigSchema,
  // Redelivered messages arrive after newer ones: no order is promised.
  features: { checkpointing: true, ordering: "none" },

  validate(config, { validateOnly }) {
    // At a stream's start read() connects anyway and reports what fails as the stream's failure.
    return validateOnly ? brokerIssues(config) : [];
  },

  async *read(config, context) {
    const batchSize = context.maxBatchSize > 0 ? context.maxBatchSize : config.batchSize;
    // The stage's credits (its inFlight) batches of messages: as many as Core lets be unacknowledged.
    const batches = context.credits > 0 ? context.credits : DEFAULT_PREFETCH_BATCHES;
    const prefetch = config.prefetch ?? Math.min(65535, batchSize * batches);
    // The checkpoint Core hands back is not a position in the queue: the broker keeps what was
    // not acknowledged and delivers it again, so every stream starts from the queue as it is.
    const session = await openSession(config, prefetch);
    sessions.set(session.id, session);
    const release = (): Promise<void> => {
      sessions.delete(session.id);
      return session.close();
    };
    context.signal.addEventListener("abort", () => void release(), { once: true });
    log.info({ stage: context.stageId, queue: config.queue, prefetch, batchSize }, "consuming");
    const defaults = messageDefaults(config);
    let exhausted = false;
    try {
      const limit = new BatchByteLimit(context);
      // The delivery tag of the event the byte limit kept back for the next batch.
      let heldTag: number | undefined;
      for (;;) {
        const events: FlowEvent[] = limit.startBatch();
        let lastTag = heldTag;
        heldTag = undefined;
        if (events.length === 0) {
          const none = await session.waitForDelivery(context.signal, config.stopWhenIdleMs);
          if (none === "stopped") return;
          if (none === "idle") {
            await session.stopConsuming();
            if (session.buffered === 0) {
              exhausted = true;
              return;
            }
          }
        }
        const lingerUntil = Date.now() + context.lingerMs;
        while (events.length < batchSize) {
          if (
            session.buffered === 0 &&
            !(await session.waitBriefly(lingerUntil - Date.now(), context.signal))
          )
            break;
          const message = session.take();
          if (message === undefined) break;
          const event = messageEvent(message, defaults);
          if (!limit.admits(event)) {
            heldTag = message.fields.deliveryTag;
            break;
          }
          events.push(event);
          lastTag = message.fields.deliveryTag;
        }
        // No batch goes out while the broker has not confirmed an acknowledgement: a batch sent
        // after a commit notice then means the broker has that commit's ack, and no crash brings
        // the batches it covers back.
        await session.acknowledgementsConfirmed();
        // A batch read from a channel that broke is redelivered anyway: fail instead of sending it.
        session.assertOpen();
        if (lastTag === undefined) continue;
        yield {
          events,
          checkpoint: {
            position: encodeDeliveryPosition({ session: session.id, deliveryTag: lastTag }),
            description: `${config.queue} up to delivery tag ${lastTag}`,
          },
        };
      }
    } finally {
      // An exhausted stream stays open for the last commit notices; the stream's end releases it.
      if (!exhausted) await release();
    }
  },

  async onCommit(position) {
    const committed = decodeDeliveryPosition(position);
    if (committed === undefined) return;
    const session = sessions.get(committed.session);
    const confirmed = (await session?.acknowledgeUpTo(committed.deliveryTag)) ?? false;
    if (!confirmed) {
      log.warn(
        { deliveryTag: committed.deliveryTag },
        "a committed batch's channel is gone before the broker confirmed its acknowledgement: the broker redelivers what it did not get (the sink may see those messages again)",
      );
    }
  },
};

async function openSession(config: RabbitmqSourceConfig, prefetch: number): Promise<DeliverySession> {
  try {
    return await DeliverySession.open(config, prefetch);
  } catch (error) {
    const message = (error as Error).message;
    // A missing queue or exchange, or a declaration that clashes with what exists, stays so on
    // every retry: the run stops with the broker's reason instead of restarting.
    if (/\b(404|406)\b|NOT_FOUND|PRECONDITION_FAILED/.test(message))
      throw new PermanentError(`RabbitMQ refused the queue setup for "${config.queue}": ${message}`);
    throw new Error(connectionProblem(config.url, error as Error));
  }
}

function messageDefaults(config: RabbitmqSourceConfig): MessageDefaults {
  let source = config.source;
  if (source === undefined) {
    const url = new URL(config.url);
    const vhost = decodeURIComponent(url.pathname.slice(1)) || "/";
    source = `rabbitmq://${url.host}/${encodeURIComponent(vhost)}/${encodeURIComponent(config.queue)}`;
  }
  return { source, type: config.type, queue: config.queue };
}
