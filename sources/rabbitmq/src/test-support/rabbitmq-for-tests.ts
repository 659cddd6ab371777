import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { type MachineRequirement, withMachineRequirement } from "@flow/testing";
import { type Channel, type ChannelModel, connect } from "amqplib";
import type { RabbitmqSourceConfig } from "../rabbitmq-source-config";

/** The broker the tests use: FLOW_TEST_RABBITMQ_URL, default the local server with guest/guest. */
export const RABBITMQ_URL = process.env.FLOW_TEST_RABBITMQ_URL || "amqp://guest:guest@127.0.0.1:5672";

let probed: MachineRequirement | undefined;

/**
 * Whether the broker accepts a connection, asked in a child process: jest decides which tests
 * exist while loading the file, before anything asynchronous could run.
 */
export function rabbitmqForTests(): MachineRequirement {
  if (probed) return probed;
  const probe = `
    require(${JSON.stringify(require.resolve("amqplib"))})
      .connect(process.env.PROBE_URL, { timeout: 3000 })
      .then((connection) => connection.close())
      .catch((error) => { process.stderr.write(String(error.message || error)); process.exit(1); });
  `;
  try {
    execFileSync(process.execPath, ["-e", probe], {
      env: { ...process.env, PROBE_URL: RABBITMQ_URL },
      stdio: ["ignore", "ignore", "pipe"],
      timeout: 10_000,
    });
    probed = { available: true };
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    probed = { available: false, reason: stderr || String(error) };
  }
  return probed;
}

/** Registers the tests of `body` when the broker answers; otherwise the real-server rule applies. */
export function describeWithRabbitmq(name: string, body: () => void): void {
  describe(name, () =>
    withMachineRequirement(
      `RabbitMQ at ${RABBITMQ_URL.replace(/\/\/[^@]*@/, "//")}`,
      rabbitmqForTests(),
      "start RabbitMQ (.ci/start-services.sh) or set FLOW_TEST_RABBITMQ_URL",
      body,
    ),
  );
}

/** A whole configuration for `queue` on `url`, defaults filled in as read() gets it once validated. */
export function sourceConfig(
  url: string,
  queue: string,
  overrides: Partial<RabbitmqSourceConfig> = {},
): RabbitmqSourceConfig {
  return {
    url,
    queue,
    declareQueue: false,
    queueType: "quorum",
    batchSize: 100,
    type: "flow.rabbitmq.message",
    heartbeatSeconds: 10,
    ...overrides,
  };
}

/** A name no other test uses. */
export function uniqueName(prefix: string): string {
  return `flow-test-${prefix}-${process.pid}-${randomBytes(4).toString("hex")}`;
}

/**
 * A test's own connection to the broker for setting up and looking at queues: a confirm channel
 * publishes (so a test knows its messages are in the queue), queues it declares are deleted by
 * `close()`.
 */
export class TestBroker {
  private readonly queues = new Set<string>();
  private readonly exchanges = new Set<string>();

  private constructor(
    private readonly connection: ChannelModel,
    readonly channel: Awaited<ReturnType<ChannelModel["createConfirmChannel"]>>,
  ) {}

  static async open(): Promise<TestBroker> {
    const connection = await connect(RABBITMQ_URL);
    connection.on("error", () => undefined);
    const channel = await connection.createConfirmChannel();
    channel.on("error", () => undefined);
    return new TestBroker(connection, channel);
  }

  /** A durable queue of its own (quorum unless said otherwise), deleted by close(). */
  async queue(prefix: string, type: "quorum" | "classic" = "quorum"): Promise<string> {
    const name = uniqueName(prefix);
    await this.channel.assertQueue(name, { durable: true, arguments: { "x-queue-type": type } });
    this.queues.add(name);
    return name;
  }

  /** Remembers a queue or exchange something else declared, so close() deletes it. */
  owns(kind: "queue" | "exchange", name: string): void {
    (kind === "queue" ? this.queues : this.exchanges).add(name);
  }

  /** Publishes to the queue (default exchange) and waits for the broker's confirms. */
  async publish(
    queue: string,
    messages: { body: Buffer | string; options?: Parameters<Channel["publish"]>[3] }[],
  ): Promise<void> {
    for (const { body, options } of messages)
      this.channel.sendToQueue(queue, Buffer.isBuffer(body) ? body : Buffer.from(body), {
        persistent: true,
        ...options,
      });
    await this.channel.waitForConfirms();
  }

  /**
   * The queue as the broker sees it, or undefined when it does not exist: asked on a channel of its
   * own, since a passive declare of a missing queue closes the channel it runs on.
   */
  async inspect(queue: string): Promise<{ messageCount: number; consumerCount: number } | undefined> {
    const channel = await this.connection.createChannel();
    channel.on("error", () => undefined);
    try {
      const { messageCount, consumerCount } = await channel.checkQueue(queue);
      await channel.close();
      return { messageCount, consumerCount };
    } catch {
      return undefined;
    }
  }

  /** Messages ready in the queue (not counting those delivered and unacknowledged). */
  async ready(queue: string): Promise<number> {
    return (await this.inspect(queue))?.messageCount ?? Number.NaN;
  }

  /** Consumers of the queue; 0 when it does not exist. */
  async consumers(queue: string): Promise<number> {
    return (await this.inspect(queue))?.consumerCount ?? 0;
  }

  async close(): Promise<void> {
    for (const queue of this.queues) await this.channel.deleteQueue(queue).catch(() => undefined);
    for (const exchange of this.exchanges) await this.channel.deleteExchange(exchange).catch(() => undefined);
    await this.connection.close().catch(() => undefined);
  }
}
