import { randomUUID } from "node:crypto";
import { type Channel, type ChannelModel, type ConsumeMessage, connect } from "amqplib";
import { urlWithHeartbeat } from "./broker-checks";
import type { RabbitmqSourceConfig } from "./rabbitmq-source-config";

/** Why waiting for a delivery ended without one. */
export type NoDelivery = "idle" | "stopped";

/**
 * One Read stream's hold on the queue: its own connection and channel, a consumer with manual
 * acknowledgements and a prefetch, and the deliveries received but not yet taken into a batch.
 * Nothing is acknowledged on receipt: `acknowledgeUpTo` runs when Core's commit notice covers a
 * batch, and what is not acknowledged when the channel closes (a crash, a cut connection, a
 * stop) goes back to the queue, redelivered with the redelivered flag set.
 *
 * A basic.ack has no reply, and one still in this process's or the kernel's send queue is lost
 * with the connection. So each acknowledgement is followed by a synchronous method on the same
 * channel (a passive queue.declare): the broker's channel handles methods in order, so its -ok
 * confirms the broker has every ack sent before it. At most one such round trip is out at a time;
 * acknowledgements sent meanwhile ride on the next one.
 */
export class DeliverySession {
  /** Names this stream inside the checkpoints it hands out, so a commit finds its channel. */
  readonly id = randomUUID();
  private readonly waiting: ConsumeMessage[] = [];
  private wake: (() => void) | undefined;
  private failure: Error | undefined;
  private consumerTag: string | undefined;
  private acknowledged = 0;
  /** Settles once the broker confirmed every acknowledgement sent so far: false if the channel went first. */
  private confirmed: Promise<boolean> = Promise.resolve(true);
  /** True while a confirming round trip is out on the channel. */
  private confirming = false;
  /** The round trip that starts when the one out returns, for acknowledgements sent after it left. */
  private nextConfirmation: Promise<boolean> | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly connection: ChannelModel,
    private readonly channel: Channel,
    private readonly queue: string,
  ) {
    const fail = (error: Error): void => {
      this.failure ??= error;
      this.signal();
    };
    // Without listeners an 'error' event would kill the service; a close ends the stream.
    connection.on("error", fail);
    connection.on("close", () => fail(new Error("the connection to RabbitMQ closed")));
    channel.on("error", fail);
    channel.on("close", () => fail(new Error("the channel to RabbitMQ closed")));
    // The broker cancels a consumer whose queue is deleted.
    channel.on("cancel", () => fail(new Error("RabbitMQ cancelled the consumer (was the queue deleted?)")));
  }

  /** Connects, declares what the config asks to, and starts consuming `prefetch` at a time. */
  static async open(config: RabbitmqSourceConfig, prefetch: number): Promise<DeliverySession> {
    const connection = await connect(urlWithHeartbeat(config.url, config.heartbeatSeconds), {
      timeout: 10_000,
      // Nagle's algorithm would hold a lone basic.ack back, waiting to fill a packet.
      noDelay: true,
    });
    let session: DeliverySession | undefined;
    try {
      const channel = await connection.createChannel();
      session = new DeliverySession(connection, channel, config.queue);
      await declareTopology(channel, config);
      await channel.prefetch(prefetch);
      const { consumerTag } = await channel.consume(config.queue, (message) => session?.receive(message), {
        noAck: false,
      });
      session.consumerTag = consumerTag;
      return session;
    } catch (error) {
      await connection.close().catch(() => undefined);
      throw error;
    }
  }

  private receive(message: ConsumeMessage | null): void {
    if (message === null) {
      this.failure ??= new Error("RabbitMQ cancelled the consumer (was the queue deleted?)");
    } else {
      this.waiting.push(message);
    }
    this.signal();
  }

  private signal(): void {
    this.wake?.();
    this.wake = undefined;
  }

  /** Throws what broke the channel or connection, if anything did. */
  assertOpen(): void {
    if (this.failure) throw this.failure;
  }

  /** Deliveries received and not yet taken. */
  get buffered(): number {
    return this.waiting.length;
  }

  /** The oldest waiting delivery, removed. */
  take(): ConsumeMessage | undefined {
    return this.waiting.shift();
  }

  /**
   * Resolves once a delivery waits (undefined), or with why not: `idle` after `idleMs` without one,
   * `stopped` when the stream ends. Throws when the channel or connection failed.
   */
  async waitForDelivery(signal: AbortSignal, idleMs?: number): Promise<NoDelivery | undefined> {
    for (;;) {
      if (this.failure) throw this.failure;
      if (this.waiting.length > 0) return undefined;
      if (signal.aborted) return "stopped";
      const woken = await new Promise<"woken" | "idle">((resolve) => {
        const timer = idleMs === undefined ? undefined : setTimeout(() => resolve("idle"), idleMs);
        const done = (): void => {
          clearTimeout(timer);
          signal.removeEventListener("abort", done);
          resolve("woken");
        };
        this.wake = done;
        signal.addEventListener("abort", done, { once: true });
      });
      if (woken === "idle" && this.waiting.length === 0 && !this.failure) return "idle";
    }
  }

  /** Waits up to `ms` for one more delivery; false when none came (or the stream ends). */
  async waitBriefly(ms: number, signal: AbortSignal): Promise<boolean> {
    if (this.waiting.length > 0) return true;
    if (ms <= 0 || signal.aborted || this.failure) return false;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      }
      this.wake = done;
      signal.addEventListener("abort", done, { once: true });
    });
    return this.waiting.length > 0;
  }

  /**
   * Stops the broker from delivering more; once the cancel is confirmed every delivery sent
   * before it has arrived (the channel keeps order), so `buffered` is final.
   */
  async stopConsuming(): Promise<void> {
    if (this.consumerTag === undefined) return;
    const tag = this.consumerTag;
    this.consumerTag = undefined;
    await this.channel.cancel(tag);
  }

  /**
   * Acknowledges every delivery up to `deliveryTag` in one basic.ack (multiple): a commit notice
   * covers its batch and every batch before it, whose tags are all lower. Never the same tag
   * twice (the broker closes a channel acknowledging an unknown tag). Resolves true once the
   * broker confirmed it has the acknowledgement; false when the channel is gone before the ack
   * went out or before the broker confirmed it: the broker redelivers what it did not get.
   */
  acknowledgeUpTo(deliveryTag: number): Promise<boolean> {
    if (deliveryTag <= this.acknowledged) return this.acknowledgementsConfirmed();
    if (this.closed || this.failure) return Promise.resolve(false);
    try {
      this.channel.ack({ fields: { deliveryTag } } as ConsumeMessage, true);
    } catch {
      return Promise.resolve(false);
    }
    this.acknowledged = deliveryTag;
    return this.confirmAcknowledgements();
  }

  /**
   * Resolves once the broker confirmed every acknowledgement sent so far (at once when none is
   * unconfirmed): true, or false when the channel went first. Never rejects.
   */
  acknowledgementsConfirmed(): Promise<boolean> {
    return this.confirmed;
  }

  /** A round trip that leaves after the ack just sent: the one waiting to go, or a new one. */
  private confirmAcknowledgements(): Promise<boolean> {
    if (this.nextConfirmation) return this.nextConfirmation;
    if (!this.confirming) {
      this.confirmed = this.roundTrip();
      return this.confirmed;
    }
    const next = this.confirmed.then(() => {
      this.nextConfirmation = undefined;
      return this.roundTrip();
    });
    this.nextConfirmation = next;
    this.confirmed = next;
    return next;
  }

  /** A passive declare of the consumed queue: its -ok comes after the broker handled the acks before it. */
  private roundTrip(): Promise<boolean> {
    this.confirming = true;
    let reply: Promise<unknown>;
    try {
      reply = this.channel.checkQueue(this.queue);
    } catch (error) {
      reply = Promise.reject(error);
    }
    return reply
      .then(
        () => true,
        () => false,
      )
      .finally(() => {
        this.confirming = false;
      });
  }

  /** Closes the channel and the connection: whatever is unacknowledged goes back to the queue. */
  close(): Promise<void> {
    this.closed = true;
    this.waiting.length = 0;
    // After the confirmation out, which amqplib would fail once the channel is closing. The
    // channel first: its close goes out behind the acks sent on it, while amqplib writes a
    // connection.close at once, ahead of channel frames still queued (an ack would be lost).
    this.closing ??= this.confirmed
      .then(() => this.channel.close())
      .catch(() => undefined)
      .then(() => this.connection.close())
      .catch(() => undefined);
    return this.closing;
  }
}

async function declareTopology(channel: Channel, config: RabbitmqSourceConfig): Promise<void> {
  if (config.declareQueue) {
    await channel.assertQueue(config.queue, {
      durable: true,
      arguments: { "x-queue-type": config.queueType },
    });
  } else {
    await channel.checkQueue(config.queue);
  }
  const exchange = config.exchange;
  if (!exchange) return;
  if (exchange.declare) await channel.assertExchange(exchange.name, exchange.type, { durable: true });
  else await channel.checkExchange(exchange.name);
  for (const key of exchange.routingKeys) await channel.bindQueue(config.queue, exchange.name, key);
}
