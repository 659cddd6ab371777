import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import { join } from "node:path";

// The four brokers of the connector consumers, each reached with the very client library its
// consumer package uses, loaded from that package (the bench package does not depend on them).
// For each broker: create a uniquely named stream / queue / topic / key, publish batches with the
// consumer's confirmations in a plain loop, count what the broker holds, and delete it again.

export const BROKERS = ["nats", "rabbitmq", "mqtt", "redis"] as const;
export type Broker = (typeof BROKERS)[number];

/** The repository root, from src/broker (tests) or dist/broker alike. */
export const REPO_ROOT = join(__dirname, "..", "..", "..", "..");

export function consumerMain(broker: Broker): string {
  return join(REPO_ROOT, "consumers", broker, "dist", "main.js");
}

function clientOf<T>(broker: Broker, library: string): T {
  return createRequire(join(REPO_ROOT, "consumers", broker, "package.json"))(library) as T;
}

/**
 * One event of the plain loop, with what the generator's events carry into the consumer: the
 * CloudEvents attributes (time included, formatted as the consumers format it) and a 200-byte body.
 */
export interface PlainEvent {
  id: string;
  time: string;
  body: Buffer;
}

export function plainEvents(count: number, payloadBytes: number): PlainEvent[] {
  const events: PlainEvent[] = [];
  const run = randomUUID().slice(0, 8);
  for (let seq = 0; seq < count; seq++) {
    const head = `{"seq":${seq},"pad":"`;
    const pad = "x".repeat(Math.max(0, payloadBytes - head.length - 2));
    const now = process.hrtime.bigint() % 1_000_000_000n;
    const time = `${new Date().toISOString().slice(0, 19)}.${String(now).padStart(9, "0")}Z`;
    // Unique per run: the JetStream stream's duplicate window still holds the Flow run's ids.
    events.push({ id: `plain-${run}-${seq}`, time, body: Buffer.from(`${head}${pad}"}`) });
  }
  return events;
}

/** The generator's source and type, so that the plain loop sends the same attribute bytes. */
const SOURCE = "urn:flow:generator";
const TYPE = "flow.generator.event";

export interface BrokerTarget {
  /** The consumer's config in the pipeline file (YAML flow mapping). */
  consumerConfig: string;
  /** Messages the broker holds (or, for MQTT, that a subscriber has received). */
  count(): Promise<number>;
  /** Publishes one batch and resolves once every message is confirmed. */
  publishBatch(events: PlainEvent[]): Promise<void>;
  /**
   * A second plain loop with the same confirmations that talks to the broker the way the
   * consumer does where that differs from the library's everyday call (Redis: one script per
   * batch instead of MULTI/EXEC), so a ratio can tell Flow's cost from the command's.
   */
  consumerWay?: { figure: string; what: string; publishBatch(events: PlainEvent[]): Promise<void> };
  /** Empties the target between the Flow run and the plain run. */
  reset(): Promise<void>;
  /** Deletes the stream / queue / key and closes every connection. */
  close(): Promise<void>;
}

const ceHeaders = (event: PlainEvent): Record<string, string> => ({
  specversion: "1.0",
  id: event.id,
  source: SOURCE,
  type: TYPE,
  time: event.time,
});

// --- NATS JetStream: PubAck per message, Nats-Msg-Id = event id ------------------------------------

interface NatsHeaders {
  set(key: string, value: string): void;
}
interface NatsLib {
  connect(options: { servers: string[] }): Promise<NatsConnection>;
  headers(): NatsHeaders;
}
interface NatsConnection {
  jetstreamManager(): Promise<{
    streams: {
      add(config: { name: string; subjects: string[] }): Promise<unknown>;
      info(name: string): Promise<{ state: { messages: number } }>;
      purge(name: string): Promise<unknown>;
      delete(name: string): Promise<unknown>;
    };
  }>;
  jetstream(): {
    publish(
      subject: string,
      data: Uint8Array,
      options: { msgID: string; headers: NatsHeaders },
    ): Promise<unknown>;
  };
  close(): Promise<void>;
}

async function natsTarget(unique: string): Promise<BrokerTarget> {
  const nats = clientOf<NatsLib>("nats", "nats");
  const stream = `BENCH_${unique.replace(/-/g, "_")}`;
  const subject = `bench.${unique}`;
  const nc = await nats.connect({ servers: ["nats://127.0.0.1:4222"] });
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({ name: stream, subjects: [subject] });
  const js = nc.jetstream();
  return {
    consumerConfig: `{ subject: ${JSON.stringify(subject)}, stream: ${JSON.stringify(stream)} }`,
    count: async () => (await jsm.streams.info(stream)).state.messages,
    async publishBatch(events) {
      await Promise.all(
        events.map((event) => {
          const headers = nats.headers();
          for (const [name, value] of Object.entries(ceHeaders(event))) headers.set(`ce-${name}`, value);
          headers.set("content-type", "application/json");
          headers.set("Nats-Expected-Stream", stream);
          return js.publish(subject, event.body, { msgID: event.id, headers });
        }),
      );
    },
    reset: async () => {
      await jsm.streams.purge(stream);
    },
    async close() {
      await jsm.streams.delete(stream).catch(() => undefined);
      await nc.close();
    },
  };
}

// --- RabbitMQ: persistent messages on a confirm channel, mandatory ---------------------------------

interface AmqpChannel {
  assertQueue(name: string, options: { durable: boolean }): Promise<unknown>;
  checkQueue(name: string): Promise<{ messageCount: number }>;
  purgeQueue(name: string): Promise<unknown>;
  deleteQueue(name: string): Promise<unknown>;
  publish(
    exchange: string,
    routingKey: string,
    content: Buffer,
    options: Record<string, unknown>,
    callback?: (error: unknown) => void,
  ): boolean;
  once(event: "drain", listener: () => void): void;
  close(): Promise<void>;
}
interface AmqpLib {
  connect(url: string): Promise<{
    createChannel(): Promise<AmqpChannel>;
    createConfirmChannel(): Promise<AmqpChannel>;
    close(): Promise<void>;
  }>;
}

async function rabbitmqTarget(unique: string): Promise<BrokerTarget> {
  const amqp = clientOf<AmqpLib>("rabbitmq", "amqplib");
  const queue = `bench-${unique}`;
  const connection = await amqp.connect("amqp://guest:guest@127.0.0.1:5672");
  const admin = await connection.createChannel();
  await admin.assertQueue(queue, { durable: true });
  const channel = await connection.createConfirmChannel();
  return {
    consumerConfig: `{ routingKey: ${JSON.stringify(queue)} }`,
    count: async () => (await admin.checkQueue(queue)).messageCount,
    async publishBatch(events) {
      const confirms: Promise<void>[] = [];
      for (const event of events) {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(ceHeaders(event))) headers[`cloudEvents:${name}`] = value;
        let accepted = true;
        confirms.push(
          new Promise<void>((resolve, reject) => {
            accepted = channel.publish(
              "",
              queue,
              event.body,
              {
                persistent: true,
                mandatory: true,
                messageId: event.id,
                contentType: "application/json",
                headers,
              },
              (error) => (error ? reject(new Error(`nacked ${event.id}`)) : resolve()),
            );
          }),
        );
        if (!accepted) await new Promise<void>((resolve) => channel.once("drain", resolve));
      }
      await Promise.all(confirms);
    },
    reset: async () => {
      await admin.purgeQueue(queue);
    },
    async close() {
      await admin.deleteQueue(queue).catch(() => undefined);
      await connection.close();
    },
  };
}

// --- MQTT: QoS 1, a PUBACK per message, at most the broker's Receive Maximum in flight -------------

interface MqttClient {
  publishAsync(topic: string, payload: Buffer, options: Record<string, unknown>): Promise<unknown>;
  subscribeAsync(topic: string, options: { qos: 0 | 1 }): Promise<unknown>;
  on(event: "message", listener: () => void): void;
  once(event: "connect", listener: (connack: { properties?: { receiveMaximum?: number } }) => void): void;
  once(event: "error", listener: (error: Error) => void): void;
  endAsync(): Promise<void>;
}
interface MqttLib {
  connect(url: string, options: Record<string, unknown>): MqttClient;
}

function mqttConnect(
  mqtt: MqttLib,
  clientId: string,
): Promise<{ client: MqttClient; receiveMaximum: number | undefined }> {
  const client = mqtt.connect("mqtt://127.0.0.1:1883", {
    clientId,
    clean: true,
    protocolVersion: 5,
    reconnectPeriod: 0,
  });
  return new Promise((resolve, reject) => {
    client.once("connect", (connack) =>
      resolve({ client, receiveMaximum: connack.properties?.receiveMaximum }),
    );
    client.once("error", reject);
  });
}

async function mqttTarget(unique: string): Promise<BrokerTarget> {
  const mqtt = clientOf<MqttLib>("mqtt", "mqtt");
  const topic = `bench/${unique}`;
  // MQTT stores nothing: a QoS 0 subscriber counts what the broker delivers (the consumer's
  // requireSubscribers also needs one), the same subscriber for Flow and for the plain loop.
  const { client: subscriber } = await mqttConnect(mqtt, `bench-sub-${unique}`);
  let received = 0;
  subscriber.on("message", () => {
    received++;
  });
  await subscriber.subscribeAsync(topic, { qos: 0 });
  const { client, receiveMaximum } = await mqttConnect(mqtt, `bench-pub-${unique}`);
  const window = Math.max(1, receiveMaximum ?? 65535);
  return {
    consumerConfig: `{ topic: ${JSON.stringify(topic)} }`,
    count: async () => received,
    async publishBatch(events) {
      let next = 0;
      const lane = async (): Promise<void> => {
        while (next < events.length) {
          const event = events[next++] as PlainEvent;
          await client.publishAsync(topic, event.body, {
            qos: 1,
            properties: { contentType: "application/json", userProperties: ceHeaders(event) },
          });
        }
      };
      await Promise.all(Array.from({ length: Math.min(window, events.length) }, lane));
    },
    reset: async () => {
      received = 0;
    },
    async close() {
      await client.endAsync();
      await subscriber.endAsync();
    },
  };
}

// --- Redis: one MULTI/EXEC of XADDs per batch, and one script call per batch as the consumer does

interface RedisClient {
  multi(): {
    xadd(key: string, id: string, ...fields: (string | Buffer)[]): unknown;
    exec(): Promise<unknown>;
  };
  defineCommand(name: string, definition: { lua: string; numberOfKeys: number }): void;
  xlen(key: string): Promise<number>;
  del(key: string): Promise<number>;
  quit(): Promise<unknown>;
}

/** KEYS[1]: the stream; ARGV: per entry its field count, then its fields. */
const XADD_EACH = `
local at = 1
while at <= #ARGV do
  local count = tonumber(ARGV[at])
  redis.call('XADD', KEYS[1], '*', unpack(ARGV, at + 1, at + count))
  at = at + 1 + count
end
return 1
`;

function redisFields(event: PlainEvent): (string | Buffer)[] {
  const fields: (string | Buffer)[] = [];
  for (const [name, value] of Object.entries(ceHeaders(event))) fields.push(`ce_${name}`, value);
  fields.push("content-type", "application/json", "data", event.body);
  return fields;
}

async function redisTarget(unique: string): Promise<BrokerTarget> {
  const Redis = clientOf<new (url: string) => RedisClient>("redis", "ioredis");
  const key = `bench:${unique}`;
  const redis = new Redis("redis://127.0.0.1:6379");
  redis.defineCommand("benchXaddEach", { lua: XADD_EACH, numberOfKeys: 1 });
  const xaddEach = (redis as unknown as { benchXaddEach(key: string, args: unknown[]): Promise<unknown> })
    .benchXaddEach;
  return {
    consumerConfig: `{ stream: ${JSON.stringify(key)} }`,
    count: () => redis.xlen(key),
    async publishBatch(events) {
      const multi = redis.multi();
      for (const event of events) multi.xadd(key, "*", ...redisFields(event));
      const replies = (await multi.exec()) as [Error | null, unknown][] | null;
      const failed = replies?.find(([error]) => error !== null);
      if (replies === null || failed) throw new Error(`EXEC failed: ${failed?.[0]?.message ?? "aborted"}`);
    },
    consumerWay: {
      figure: "plain script",
      what: "one EVALSHA of XADDs per batch",
      async publishBatch(events) {
        const args: unknown[] = [];
        for (const event of events) {
          const fields = redisFields(event);
          args.push(fields.length, ...fields);
        }
        await xaddEach.call(redis, key, args);
      },
    },
    reset: async () => {
      await redis.del(key);
    },
    async close() {
      await redis.del(key);
      await redis.quit();
    },
  };
}

export function openBrokerTarget(broker: Broker): Promise<BrokerTarget> {
  const unique = `${process.pid}-${randomUUID().slice(0, 8)}`;
  switch (broker) {
    case "nats":
      return natsTarget(unique);
    case "rabbitmq":
      return rabbitmqTarget(unique);
    case "mqtt":
      return mqttTarget(unique);
    case "redis":
      return redisTarget(unique);
  }
}
