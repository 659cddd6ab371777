import { connect, type IPublishPacket, type MqttClient, type Packet } from "mqtt";

/** A message received and not yet acknowledged to the broker, in the order of receipt. */
export interface HeldMessage {
  /** 1, 2, 3... in the order this session received them; a checkpoint counts up to one. */
  index: number;
  topic: string;
  packet: IPublishPacket;
}

export interface SessionOptions {
  url: string;
  clientId: string;
  topics: string[];
  protocolVersion: 4 | 5;
  sessionExpirySeconds: number;
  receiveMaximum: number;
  keepaliveSeconds: number;
  connectTimeoutMs: number;
  username?: string;
  password?: string;
  /** The most messages kept received but not handed out; the client stops reading beyond it. */
  bufferLimit: number;
  onWarning(message: string): void;
}

/** Given to handleMessage's callback so that the client sends no PUBACK of its own (see below). */
const DEFERRED = new Error("flow-source-mqtt acknowledges after Core's commit");

/** The broker refused a topic filter (SUBACK failure): no retry can help. */
export class SubscriptionRefused extends Error {
  override name = "SubscriptionRefused";
}

/** The connection could not be (re)established or was refused: the stream fails and is retried. */
export class SessionFailure extends Error {
  override name = "SessionFailure";
}

/**
 * One persistent MQTT session (clean start off, a stable client id) subscribed at QoS 1, whose
 * messages are acknowledged only when told to (`ackThrough`), after Core has committed them.
 *
 * mqtt.js acknowledges a QoS 1 message itself once its `handleMessage` hook calls back, and the
 * documented ways to defer that (overriding `handleMessage`, or MQTT 5 `customHandleAcks`) hold the
 * client's packet pump until the callback: one message at a time, and Core commits at most every
 * 100 ms. So the hook calls back at once with an error, which makes the client skip its PUBACK and
 * go on reading; the PUBACK is sent later, in receipt order, through the client's own packet writer
 * (`sendPuback`). The hook still holds the pump when `bufferLimit` messages wait to be handed out:
 * that is the client's documented backpressure, and TCP then stops the broker.
 */
export class MqttSession {
  private readonly client: MqttClient;
  /** QoS 1 messages not acknowledged yet, by packet id; a Map keeps receipt order. */
  private readonly unacked = new Map<number, HeldMessage>();
  private readonly buffered: HeldMessage[] = [];
  private readonly heldPumps: (() => void)[] = [];
  private received = 0;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private connectedOnce = false;
  private closed = false;
  /** The highest index Core has committed: acknowledged as soon as the client is connected. */
  private committedThrough = 0;
  private onFailure: ((error: Error) => void) | undefined;

  private constructor(private readonly options: SessionOptions) {
    this.client = connect(options.url, {
      clientId: options.clientId,
      clean: false,
      protocolVersion: options.protocolVersion,
      keepalive: options.keepaliveSeconds,
      connectTimeout: options.connectTimeoutMs,
      reconnectPeriod: 1000,
      username: options.username,
      password: options.password,
      resubscribe: true,
      ...(options.protocolVersion === 5
        ? {
            properties: {
              sessionExpiryInterval: options.sessionExpirySeconds,
              receiveMaximum: options.receiveMaximum,
            },
          }
        : {}),
    });
    // Attached before the first packet can arrive: the broker resends a session's unacknowledged
    // messages right after CONNACK, and a message nobody hooks is acknowledged by the client.
    this.client.handleMessage = (_packet, callback) => {
      // Never held before the first CONNACK has been handled: mqtt.js emits "connect" only after
      // its outgoing store is flushed, which a held pump keeps from happening.
      if (!this.connectedOnce || this.buffered.length < this.options.bufferLimit) callback(DEFERRED);
      else this.heldPumps.push(() => callback(DEFERRED));
    };
    this.client.on("message", (topic, _payload, packet) => this.receive(topic, packet));
    this.client.on("connect", (connack) => this.connected(connack.sessionPresent));
    this.client.on("error", (error) => {
      // A refused CONNACK (bad credentials, not authorized, bad client id) will not get better by
      // itself: fail the stream with the broker's reason. Network errors are reconnected.
      const code = (error as { code?: unknown }).code;
      if (typeof code === "number" && !this.connectedOnce)
        this.fail(new SessionFailure(`the broker refused the connection: ${error.message}`));
    });
    this.client.on("offline", () => options.onWarning(`disconnected from ${options.url}; reconnecting`));
  }

  /**
   * Connects, subscribes the topics at QoS 1, and resolves once connected. The SUBACK is not
   * waited for: a resumed session's messages arrive before it, and until they are taken the
   * buffer may hold the client's pump, the SUBACK behind them. A refused subscription fails the
   * session (SubscriptionRefused), so the next take() throws it.
   */
  static async open(options: SessionOptions, signal: AbortSignal): Promise<MqttSession> {
    const session = new MqttSession(options);
    try {
      await session.firstConnection(signal);
    } catch (error) {
      await session.close();
      throw error;
    }
    session.client
      // rh 1: a subscription the persistent session has already does not resend retained messages.
      .subscribeAsync(options.topics, options.protocolVersion === 5 ? { qos: 1, rh: 1 } : { qos: 1 })
      .catch((error: Error) => {
        const what = `subscribing to ${options.topics.join(", ")}: ${error.message}`;
        session.fail(
          /subscribe error/i.test(error.message) ? new SubscriptionRefused(what) : new SessionFailure(what),
        );
      });
    return session;
  }

  private firstConnection(signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          finish(
            new SessionFailure(
              `no connection to ${this.options.url} within ${this.options.connectTimeoutMs} ms`,
            ),
          ),
        this.options.connectTimeoutMs,
      );
      const onAbort = (): void => finish(new Error("the stream ended"));
      this.onFailure = (error) => finish(error);
      const finish = (error?: Error): void => {
        clearTimeout(timer);
        this.onFailure = undefined;
        signal.removeEventListener("abort", onAbort);
        this.client.off("connect", onConnect);
        if (error) reject(error);
        else resolve();
      };
      const onConnect = (): void => finish();
      signal.addEventListener("abort", onAbort, { once: true });
      this.client.on("connect", onConnect);
    });
  }

  private connected(sessionPresent: boolean): void {
    if (this.connectedOnce && !sessionPresent) {
      // The broker lost the session (it expired, or the broker lost its state): it will not resend
      // what was unacknowledged, and its packet ids may now name new messages.
      this.options.onWarning(
        `the broker had no session for ${this.options.clientId} on reconnecting: messages it held for it while the source was away are lost`,
      );
      this.unacked.clear();
    }
    const reconnected = this.connectedOnce;
    this.connectedOnce = true;
    // Acknowledgements a lost connection kept back go out now, the resent messages they cover dropped.
    if (reconnected) this.ackThrough(this.committedThrough);
  }

  private receive(topic: string, packet: IPublishPacket): void {
    if (this.closed) return;
    if (packet.qos > 0 && packet.messageId !== undefined) {
      // A packet id stays ours until we acknowledge it, so the same id again is the broker
      // resending a message we hold (after a reconnect), not a new one.
      if (this.unacked.has(packet.messageId)) return;
    }
    const message: HeldMessage = { index: ++this.received, topic, packet };
    if (packet.qos > 0 && packet.messageId !== undefined) this.unacked.set(packet.messageId, message);
    this.buffered.push(message);
    this.signal();
  }

  /** The next message received and not handed out yet, waiting up to `waitMs` (Infinity: until one comes). */
  async take(waitMs: number, signal: AbortSignal): Promise<HeldMessage | undefined> {
    while (this.buffered.length === 0) {
      if (this.failure) throw this.failure;
      if (signal.aborted || waitMs <= 0) return undefined;
      const woken = await new Promise<boolean>((resolve) => {
        const timer = Number.isFinite(waitMs) ? setTimeout(() => done(false), waitMs) : undefined;
        const onAbort = (): void => done(false);
        const done = (value: boolean): void => {
          clearTimeout(timer);
          signal.removeEventListener("abort", onAbort);
          this.wake = undefined;
          resolve(value);
        };
        this.wake = () => done(true);
        signal.addEventListener("abort", onAbort, { once: true });
      });
      if (!woken && this.buffered.length === 0) return undefined;
    }
    const message = this.buffered.shift() as HeldMessage;
    // Room again: let a pump the buffer held read on.
    while (this.heldPumps.length > 0 && this.buffered.length < this.options.bufferLimit)
      this.heldPumps.shift()?.();
    return message;
  }

  /** Sends the PUBACK of every message received up to `index`, in the order they were received. */
  ackThrough(index: number): void {
    this.committedThrough = Math.max(this.committedThrough, index);
    // Disconnected, the acknowledgements wait for the next connection (see connected()).
    if (!this.client.connected) return;
    for (const [messageId, message] of this.unacked) {
      if (message.index > index) break;
      this.unacked.delete(messageId);
      sendPuback(this.client, messageId);
    }
  }

  /** Messages received and not yet acknowledged. */
  get unackedCount(): number {
    return this.unacked.size;
  }

  /** Closes the connection; the broker keeps the session and resends what was not acknowledged. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.signal();
    for (const release of this.heldPumps.splice(0)) release();
    // A graceful end first, so the PUBACKs written last reach the broker before DISCONNECT; a
    // connection that cannot end so (the broker is gone) is cut.
    const graceful = this.client.endAsync(false).then(
      () => true,
      () => false,
    );
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), 2000);
    });
    const ended = await Promise.race([graceful, late]);
    clearTimeout(timer);
    if (!ended) await this.client.endAsync(true).catch(() => undefined);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.onFailure?.(this.failure);
    this.signal();
  }

  private signal(): void {
    this.wake?.();
  }
}

/**
 * Writes a PUBACK through the client's packet writer, the one its own QoS 1 handler uses (mqtt.js
 * 5.16.0 exposes no public call for it; the package pins that version and the tests prove the
 * acknowledgement reaches the broker). It fails loudly, never silently, if the writer is gone.
 */
function sendPuback(client: MqttClient, messageId: number): void {
  const writer = (client as unknown as { _sendPacket?: (packet: Packet, callback?: () => void) => void })
    ._sendPacket;
  if (typeof writer !== "function")
    throw new Error(
      "this mqtt client has no packet writer (_sendPacket): flow-source-mqtt needs mqtt 5.16.0",
    );
  writer.call(client, { cmd: "puback", messageId } as Packet);
}
