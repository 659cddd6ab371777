import { join } from "node:path";
import {
  type ConsumerDefinition,
  type FlowEvent,
  PermanentError,
  RetryableError,
  readPackageVersion,
} from "@flow/sdk";
import { connect, ErrorCode, type NatsConnection, type PubAck } from "nats";
import { cloudEventMessage } from "./cloudevent-message";
import { connectOptions } from "./nats-connect-options";
import { type NatsConsumerConfig, natsConsumerConfigSchema } from "./nats-consumer-config";
import { validateNatsConsumer } from "./nats-consumer-validation";

/** Failures no retry can mend: nothing stores the subject, the message is too large, a wrong stream. */
function isPermanent(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  if (code === ErrorCode.NoResponders || code === ErrorCode.MaxPayloadExceeded) return true;
  // A JetStream API error (wrong expected stream, message over the stream's max_msg_size...) is
  // the server's verdict on the message; an error without one is the connection's.
  return (error as { api_error?: unknown }).api_error !== undefined;
}

function reasonOf(error: unknown, config: NatsConsumerConfig): string {
  const code = (error as { code?: string }).code;
  if (code === ErrorCode.NoResponders) return `no JetStream stream stores subject ${config.subject}`;
  return (error as Error).message || String(error);
}

/**
 * Publishes every event of a batch to JetStream and resolves once each has its PubAck (stored by
 * the stream, replicated as the stream says), so WRITTEN means the broker holds the batch.
 * Nats-Msg-Id is the event id: a batch sent again after a lost answer or a crash adds nothing new
 * inside the stream's duplicate window.
 */
export const natsConsumer: ConsumerDefinition<NatsConsumerConfig> = {
  name: "flow-consumer-nats",
  // package.json sits one level above src/ and dist/.
  version: readPackageVersion(join(__dirname, "..")),
  description: "publishes events to a NATS JetStream stream as CloudEvents; WRITTEN once every PubAck is in",
  configSchema: natsConsumerConfigSchema,
  // Through Nats-Msg-Id, within the stream's duplicate window (2 minutes unless the stream says otherwise).
  features: { idempotent: true, ordering: "total" },

  validate: (config, context) => validateNatsConsumer(config, context),

  open(config, context) {
    let connection: Promise<NatsConnection> | undefined;
    // Connected on the first batch, so a broker that is down makes a retryable answer, not a failed stream.
    const connected = (): Promise<NatsConnection> => {
      connection ??= connect(connectOptions(config, `flow-consumer-nats ${context.stageId}`)).catch(
        (error: Error) => {
          connection = undefined;
          throw error;
        },
      );
      return connection;
    };
    return {
      async write(events: FlowEvent[]) {
        let nc: NatsConnection;
        try {
          nc = await connected();
        } catch (error) {
          throw new RetryableError(
            `cannot connect to ${config.servers.join(", ")}: ${(error as Error).message}`,
          );
        }
        const js = nc.jetstream({ timeout: config.ackTimeoutMs });
        const results = await Promise.allSettled(
          events.map((event): Promise<PubAck> => {
            const { headers, body } = cloudEventMessage(event, config.mode);
            return js.publish(config.subject, body, {
              msgID: event.id,
              headers,
              timeout: config.ackTimeoutMs,
              ...(config.stream !== undefined ? { expect: { streamName: config.stream } } : {}),
            });
          }),
        );
        const failures = results.flatMap((result, index) =>
          result.status === "rejected" ? [{ event: events[index] as FlowEvent, error: result.reason }] : [],
        );
        if (failures.length === 0) return;
        const retryable = failures.find((failure) => !isPermanent(failure.error));
        const first = retryable ?? (failures[0] as { event: FlowEvent; error: unknown });
        const summary = `${failures.length} of ${events.length} events not acknowledged by JetStream (event ${first.event.id}: ${reasonOf(first.error, config)})`;
        // What did get a PubAck is in the stream; sent again, its Nats-Msg-Id makes it a duplicate the stream drops.
        throw retryable ? new RetryableError(summary) : new PermanentError(summary);
      },
      async close() {
        const nc = await connection?.catch(() => undefined);
        await nc?.drain().catch(() => nc.close());
      },
    };
  },
};
