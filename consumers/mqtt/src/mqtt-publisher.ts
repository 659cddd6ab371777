import { PermanentError, RetryableError } from "@flow/sdk";
import {
  connect,
  type IClientOptions,
  type IClientPublishOptions,
  type IConnackPacket,
  type MqttClient,
} from "mqtt";
import type { EventMessage } from "./cloudevent-message";
import type { MqttConsumerConfig } from "./mqtt-consumer-config";
import { unpublishableReason } from "./publish-packet-limits";

/** PUBACK reason codes no retry can change: the batch is dead-lettered with the broker's reason. */
const PERMANENT_REASONS = new Set([
  0x87, // not authorized
  0x90, // topic name invalid
  0x95, // packet too large
  0x99, // payload format invalid
]);
const NO_MATCHING_SUBSCRIBERS = 0x10;

/**
 * One MQTT connection publishing at QoS 1. `publishAll` resolves only once the broker has sent
 * the PUBACK of every message; a closed connection fails it (retryable), and the next batch
 * connects again. At most `maxInFlight` publishes await their PUBACK at once, never more than
 * the broker's Receive Maximum, in the order of the batch.
 */
export class MqttPublisher {
  private client: MqttClient | undefined;
  private inFlightLimit = 20;
  /** The broker's largest packet: from its CONNACK (MQTT 5) or `maxPacketBytes`, the smaller. */
  private maximumPacketSize: number | undefined;
  private readonly reasons = new Map<number, number>();

  constructor(
    private readonly config: MqttConsumerConfig,
    private readonly clientId: string,
  ) {}

  private async connection(): Promise<MqttClient> {
    if (this.client?.connected) return this.client;
    await this.drop();
    let client: MqttClient;
    let connack: IConnackPacket;
    try {
      ({ client, connack } = await connectWithConnack(this.config.url, {
        clientId: this.clientId,
        clean: true,
        protocolVersion: this.config.protocolVersion,
        connectTimeout: this.config.connectTimeoutMs,
        // A lost connection fails the batch; the next batch connects anew (no hidden resends).
        reconnectPeriod: 0,
        username: this.config.username,
        password: this.config.password,
      }));
    } catch (error) {
      throw new RetryableError(`cannot connect to ${this.config.url}: ${(error as Error).message}`);
    }
    client.on("error", () => undefined); // reported through the publishes it fails
    client.on("packetreceive", (packet) => {
      if (packet.cmd === "puback" && packet.messageId !== undefined)
        this.reasons.set(packet.messageId, packet.reasonCode ?? 0);
    });
    const brokerMaximum = connack.properties?.receiveMaximum;
    const limit =
      this.config.maxInFlight ?? brokerMaximum ?? (this.config.protocolVersion === 5 ? 65535 : 20);
    this.inFlightLimit = Math.max(1, Math.min(limit, brokerMaximum ?? limit));
    const stated = [connack.properties?.maximumPacketSize, this.config.maxPacketBytes].filter(
      (size): size is number => size !== undefined,
    );
    this.maximumPacketSize = stated.length > 0 ? Math.min(...stated) : undefined;
    this.client = client;
    return client;
  }

  /**
   * Publishes every message at QoS 1 and resolves once each has its PUBACK. A message that can
   * never be one MQTT packet fails the batch for good before anything of it is published, so the
   * dead-lettered batch and the topic never hold the same event.
   */
  async publishAll(messages: EventMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const client = await this.connection();
    for (const message of messages) {
      const reason = unpublishableReason(
        this.config.topic,
        message,
        this.config.protocolVersion,
        this.maximumPacketSize,
      );
      if (reason)
        throw new PermanentError(
          `event ${message.eventId} cannot be published to ${this.config.topic}: ${reason}`,
        );
    }
    await new Promise<void>((resolve, reject) => {
      let next = 0;
      let acked = 0;
      let settled = false;
      const finish = (error?: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        client.off("close", onClose);
        if (error) {
          // What this connection still awaits is unknown to the broker or not: start clean.
          void this.drop();
          reject(error);
        } else resolve();
      };
      const onClose = (): void =>
        finish(
          new RetryableError(
            `the connection to ${this.config.url} closed before the broker acknowledged the batch`,
          ),
        );
      const timer = setTimeout(
        () =>
          finish(
            new RetryableError(
              `no PUBACK for ${messages.length - acked} messages within ${this.config.publishTimeoutMs} ms`,
            ),
          ),
        this.config.publishTimeoutMs,
      );
      client.on("close", onClose);
      const publishNext = (): void => {
        while (!settled && next < messages.length && next - acked < this.inFlightLimit) {
          const message = messages[next] as EventMessage;
          next += 1;
          client.publish(this.config.topic, message.payload, this.options(message), (error, packet) => {
            if (settled) return;
            const messageId = (packet as { messageId?: number } | undefined)?.messageId;
            const reason = messageId === undefined ? undefined : this.reasons.get(messageId);
            if (messageId !== undefined) this.reasons.delete(messageId);
            if (error) {
              const code = (error as { code?: unknown }).code;
              const what = `the broker refused a message: ${error.message}`;
              return finish(
                typeof code === "number" && PERMANENT_REASONS.has(code)
                  ? new PermanentError(what)
                  : new RetryableError(what),
              );
            }
            if (reason === NO_MATCHING_SUBSCRIBERS && this.config.requireSubscribers)
              return finish(
                new RetryableError(
                  `no subscriber for ${this.config.topic}: the broker dropped the message (PUBACK reason 16, no matching subscribers)`,
                ),
              );
            acked += 1;
            if (acked === messages.length) finish();
            else publishNext();
          });
        }
      };
      publishNext();
    });
  }

  private options(message: EventMessage): IClientPublishOptions {
    const properties: NonNullable<IClientPublishOptions["properties"]> = {};
    if (this.config.protocolVersion === 5) {
      if (message.contentType) properties.contentType = message.contentType;
      if (message.userProperties) properties.userProperties = message.userProperties;
    }
    return {
      qos: 1,
      retain: this.config.retain,
      ...(Object.keys(properties).length > 0 ? { properties } : {}),
    };
  }

  /** Closes the connection, at once: nothing this consumer answered WRITTEN depends on it. */
  async drop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.reasons.clear();
    if (client) await client.endAsync(true).catch(() => undefined);
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await client.endAsync(false).catch(() => client.endAsync(true).catch(() => undefined));
  }
}

/** Connects and resolves with the client and its CONNACK (which holds the broker's Receive Maximum). */
export function connectWithConnack(
  url: string,
  options: IClientOptions,
): Promise<{ client: MqttClient; connack: IConnackPacket }> {
  return new Promise((resolve, reject) => {
    const client = connect(url, options);
    const onError = (error: Error): void => {
      client.off("connect", onConnect);
      client.off("close", onClose);
      client.end(true);
      reject(error);
    };
    const onConnect = (connack: IConnackPacket): void => {
      client.off("error", onError);
      client.off("close", onClose);
      resolve({ client, connack });
    };
    client.once("error", onError);
    client.once("connect", onConnect);
    // With reconnectPeriod 0 a failed first connection only closes.
    const onClose = (): void => onError(new Error("the connection closed before CONNACK"));
    client.once("close", onClose);
  });
}
