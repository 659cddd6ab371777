import { type FlowEvent, PermanentError, RetryableError } from "@flow/sdk";
import { type ChannelModel, type ConfirmChannel, connect, type Message } from "amqplib";
import { connectionProblem, urlWithHeartbeat } from "./broker-connection";
import { attributeText, eventMessage } from "./event-message";
import type { RabbitmqConsumerConfig } from "./rabbitmq-consumer-config";

interface OpenChannel {
  connection: ChannelModel;
  channel: ConfirmChannel;
  /** Rejects when the channel or its connection closes or fails. */
  lost: Promise<never>;
}

/**
 * Publishes batches on a confirm channel and resolves only once the broker has confirmed every
 * message of the batch (for a durable queue: written to disk; for a quorum queue: on a majority).
 * A nack, a return (no queue took a mandatory message) or a channel that closes with messages
 * unconfirmed fails the batch; the next batch opens a new connection.
 */
export class ConfirmedPublisher {
  private open: Promise<OpenChannel> | undefined;

  constructor(private readonly config: RabbitmqConsumerConfig) {}

  async publish(events: FlowEvent[]): Promise<void> {
    const messages = events.map((event) => {
      const message = eventMessage(event, this.config.mode);
      if (message.content.length > this.config.maxMessageBytes) {
        throw new PermanentError(
          `event ${event.id} is ${message.content.length} bytes, more than the broker's limit of ${this.config.maxMessageBytes} (maxMessageBytes)`,
        );
      }
      return { ...message, routingKey: this.routingKey(event), id: event.id };
    });
    const { channel, lost } = await this.channel();
    const returned: Message[] = [];
    const onReturn = (message: Message): void => {
      returned.push(message);
    };
    channel.on("return", onReturn);
    try {
      const confirms: Promise<void>[] = [];
      for (const message of messages) {
        let settle: { resolve: () => void; reject: (error: Error) => void } = { resolve() {}, reject() {} };
        const confirmed = new Promise<void>((resolve, reject) => {
          settle = { resolve, reject };
        });
        confirmed.catch(() => undefined);
        confirms.push(confirmed);
        let accepted = true;
        try {
          accepted = channel.publish(
            this.config.exchange,
            message.routingKey,
            message.content,
            { ...message.options, mandatory: this.config.mandatory },
            (error: unknown) =>
              error
                ? settle.reject(new RetryableError(`RabbitMQ nacked event ${message.id}`))
                : settle.resolve(),
          );
        } catch (error) {
          // amqplib refuses a headers table over its 64 KiB encoding buffer before sending anything.
          if (error instanceof RangeError)
            throw new PermanentError(`event ${message.id} cannot be sent: ${error.message}`);
          throw error;
        }
        // The channel's buffer is full: wait until it drains (or the channel is lost).
        if (!accepted) await Promise.race([new Promise((resolve) => channel.once("drain", resolve)), lost]);
      }
      await Promise.race([Promise.all(confirms), lost]);
    } catch (error) {
      if (error instanceof PermanentError || error instanceof RetryableError) throw error;
      throw new RetryableError(`RabbitMQ did not confirm the batch: ${(error as Error).message}`);
    } finally {
      channel.off("return", onReturn);
    }
    if (returned.length > 0) {
      const first = returned[0] as Message;
      throw new PermanentError(
        `RabbitMQ returned ${returned.length} of ${messages.length} messages as unroutable: exchange "${first.fields.exchange}" has no queue for routing key "${first.fields.routingKey}"`,
      );
    }
  }

  private routingKey(event: FlowEvent): string {
    const name = this.config.routingKeyAttribute;
    return (name === undefined ? undefined : attributeText(event, name)) ?? this.config.routingKey;
  }

  /** The open channel, or a new connection and channel when there is none (or it was lost). */
  private channel(): Promise<OpenChannel> {
    this.open ??= this.connect().catch((error: Error) => {
      this.open = undefined;
      throw new RetryableError(connectionProblem(this.config.url, error));
    });
    return this.open;
  }

  private async connect(): Promise<OpenChannel> {
    const connection = await connect(urlWithHeartbeat(this.config.url, this.config.heartbeatSeconds), {
      timeout: 10_000,
    });
    try {
      const channel = await connection.createConfirmChannel();
      let fail: (error: Error) => void = () => undefined;
      const lost = new Promise<never>((_, reject) => {
        fail = reject;
      });
      lost.catch(() => undefined);
      const broken = (error?: Error): void => {
        this.open = undefined;
        fail(error ?? new Error("the channel closed"));
      };
      // Without listeners an 'error' event would kill the service.
      connection.on("error", broken);
      connection.on("close", () => broken(new Error("the connection closed")));
      channel.on("error", broken);
      channel.on("close", () => broken(new Error("the channel closed")));
      return { connection, channel, lost };
    } catch (error) {
      await connection.close().catch(() => undefined);
      throw error;
    }
  }

  async close(): Promise<void> {
    const open = this.open;
    this.open = undefined;
    const current = await open?.catch(() => undefined);
    await current?.channel.close().catch(() => undefined);
    await current?.connection.close().catch(() => undefined);
  }
}
