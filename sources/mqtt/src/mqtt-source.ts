import { randomUUID } from "node:crypto";
import { join } from "node:path";
import {
  BatchByteLimit,
  type ConfigIssue,
  errorIssue,
  type FlowEvent,
  PermanentError,
  readPackageVersion,
  type SourceDefinition,
  serviceLogger,
} from "@flow/sdk";
import { connectAsync } from "mqtt";
import { messageEvent } from "./mqtt-message-event";
import { MqttSession, SubscriptionRefused } from "./mqtt-session";
import { type MqttSourceConfig, mqttSourceConfigSchema } from "./mqtt-source-config";

const NAME = "flow-source-mqtt";
const log = serviceLogger(NAME);

/**
 * The checkpoint: the persistent session is the real position (the broker keeps what was not
 * acknowledged), so a checkpoint only names the stream's session and how many of its messages a
 * batch covers, which is what a commit notice acknowledges.
 */
interface Position {
  clientId: string;
  stream: string;
  through: number;
}

const encodePosition = (position: Position): Buffer => Buffer.from(JSON.stringify(position), "utf8");

function decodePosition(buffer: Buffer): Position | undefined {
  try {
    const value = JSON.parse(buffer.toString("utf8")) as Position;
    return typeof value.stream === "string" && typeof value.through === "number" ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The session each open stream reads, by the configuration object the SDK hands to read and onCommit. */
const sessions = new WeakMap<MqttSourceConfig, { stream: string; session: MqttSession }>();

export const mqttSource: SourceDefinition<MqttSourceConfig> = {
  name: NAME,
  version: readPackageVersion(join(__dirname, "..")),
  description:
    "Reads MQTT topics at QoS 1 through a persistent session and acknowledges each message only after Core has committed it",
  configSchema: mqttSourceConfigSchema,
  features: { checkpointing: true, ordering: "total" },

  async validate(config, { validateOnly }) {
    return validateOnly ? reachBroker(config) : [];
  },

  async *read(config, context) {
    const stream = randomUUID();
    const broker = brokerName(config.url);
    if (context.checkpoint) {
      const previous = decodePosition(context.checkpoint);
      if (previous && previous.clientId !== config.clientId)
        log.warn(
          { stage: context.stageId, previous: previous.clientId, clientId: config.clientId },
          "the client id changed since the last checkpoint: the old session's messages stay with the broker under the old id",
        );
    }
    const batchSize = context.maxBatchSize > 0 ? context.maxBatchSize : 100;
    const session = await MqttSession.open(
      {
        ...config,
        bufferLimit: Math.max(config.receiveMaximum, batchSize),
        onWarning: (message) => log.warn({ stage: context.stageId, clientId: config.clientId }, message),
      },
      context.signal,
    );
    sessions.set(config, { stream, session });
    const messageContext = {
      broker,
      clientId: config.clientId,
      eventType: config.eventType,
      cloudEvents: config.cloudEvents,
    };
    try {
      const limit = new BatchByteLimit(context);
      // The index of the last message in a batch; the message the byte limit held back comes first next.
      let heldIndex = 0;
      let through = 0;
      while (!context.signal.aborted) {
        const events: FlowEvent[] = limit.startBatch();
        if (events.length > 0) through = heldIndex;
        const deadline = { at: 0 };
        while (events.length < batchSize) {
          // The first message is waited for without end; then up to lingerMs for more.
          const waitMs =
            events.length === 0 ? Number.POSITIVE_INFINITY : Math.max(0, deadline.at - Date.now());
          const message = await session.take(waitMs, context.signal);
          if (message === undefined) break;
          if (events.length === 0) deadline.at = Date.now() + context.lingerMs;
          const { event, invalid } = messageEvent(message.topic, message.packet, messageContext);
          if (invalid !== undefined)
            log.warn(
              { stage: context.stageId, topic: message.topic },
              `a message is not a valid CloudEvent, read as a plain message: ${invalid}`,
            );
          if (!limit.admits(event)) {
            heldIndex = message.index;
            break;
          }
          events.push(event);
          through = message.index;
        }
        if (events.length === 0) continue;
        yield {
          events,
          checkpoint: {
            position: encodePosition({ clientId: config.clientId, stream, through }),
            description: `${config.clientId}: message ${through} of stream ${stream.slice(0, 8)}`,
          },
        };
      }
    } catch (error) {
      // The broker refuses the configured topic filter: every restart would be refused again.
      if (error instanceof SubscriptionRefused) throw new PermanentError(error.message);
      throw error;
    } finally {
      sessions.delete(config);
      await session.close();
    }
  },

  onCommit(position, config) {
    const open = sessions.get(config);
    const committed = decodePosition(position);
    // A position of an earlier stream acknowledges nothing here: that stream's session closed, and
    // the broker resent what it had not acknowledged to this one.
    if (!open || !committed || committed.stream !== open.stream) return;
    open.session.ackThrough(committed.through);
  },
};

/** mqtt://host:port of a broker URL, without credentials, for event sources and messages. */
function brokerName(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}`;
  } catch {
    return url;
  }
}

/**
 * Validate-only: connects with a throwaway clean session (never the configured client id, which
 * would take the running source's session over) and subscribes each topic filter, so an
 * unreachable broker, refused credentials and a filter the broker refuses are reported at their field.
 */
async function reachBroker(config: MqttSourceConfig): Promise<ConfigIssue[]> {
  let client: Awaited<ReturnType<typeof connectAsync>>;
  try {
    client = await connectAsync(config.url, {
      clientId: `${config.clientId.slice(0, 200)}-validate-${randomUUID().slice(0, 8)}`,
      clean: true,
      protocolVersion: config.protocolVersion,
      connectTimeout: config.connectTimeoutMs,
      reconnectPeriod: 0,
      username: config.username,
      password: config.password,
    });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === "number")
      return [
        errorIssue(
          config.username === undefined ? "/url" : "/username",
          `the broker refused the connection: ${(error as Error).message}`,
        ),
      ];
    return [
      errorIssue(
        "/url",
        `cannot reach the MQTT broker at ${brokerName(config.url)}: ${(error as Error).message || String(code)}`,
      ),
    ];
  }
  const issues: ConfigIssue[] = [];
  try {
    for (const [index, topic] of config.topics.entries()) {
      try {
        const granted = await client.subscribeAsync(topic, { qos: 1 });
        const failed = granted.find((grant) => grant.qos >= 0x80);
        if (failed)
          issues.push(
            errorIssue(
              `/topics/${index}`,
              `the broker refused the subscription to "${topic}" (reason ${failed.qos})`,
            ),
          );
        else await client.unsubscribeAsync(topic);
      } catch (error) {
        issues.push(
          errorIssue(`/topics/${index}`, `cannot subscribe to "${topic}": ${(error as Error).message}`),
        );
      }
    }
  } finally {
    await client.endAsync(true).catch(() => undefined);
  }
  return issues;
}
