import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { withMachineRequirement } from "@flow/testing";
import { type ChannelModel, connect, type GetMessage } from "amqplib";

/** FLOW_TEST_RABBITMQ_URL, or the machine's broker with guest/guest. */
export const BROKER_URL = process.env.FLOW_TEST_RABBITMQ_URL || "amqp://guest:guest@127.0.0.1:5672";

/**
 * The consumer's tests, registered when the broker takes a connection (asked synchronously, in a
 * child process, because jest collects tests while loading the file); otherwise skipped loudly,
 * or failed under CI=true.
 */
export function whenBrokerAnswers(name: string, tests: () => void): void {
  let failure: string | undefined;
  try {
    execFileSync(
      process.execPath,
      [
        "-e",
        `require(${JSON.stringify(require.resolve("amqplib"))}).connect(process.argv[1], { timeout: 3000 }).then((c) => c.close(), (e) => { console.error(e.message); process.exit(1); })`,
        BROKER_URL,
      ],
      { stdio: ["ignore", "ignore", "pipe"], timeout: 10_000 },
    );
  } catch (error) {
    failure = (error as { stderr?: Buffer }).stderr?.toString().trim() || String(error);
  }
  describe(name, () =>
    withMachineRequirement(
      "RabbitMQ",
      failure === undefined ? { available: true } : { available: false, reason: failure },
      "start RabbitMQ (.ci/start-services.sh) or point FLOW_TEST_RABBITMQ_URL at one",
      tests,
    ),
  );
}

/** Queues and exchanges of one test, under names of their own, and what landed in them. */
export class BrokerFixture {
  private readonly created: { kind: "queue" | "exchange"; name: string }[] = [];

  private constructor(private readonly connection: ChannelModel) {}

  static async connect(): Promise<BrokerFixture> {
    const connection = await connect(BROKER_URL);
    connection.on("error", () => undefined);
    return new BrokerFixture(connection);
  }

  name(prefix: string): string {
    return `flow-test-${prefix}-${process.pid}-${randomBytes(4).toString("hex")}`;
  }

  async queue(prefix: string, args: Record<string, unknown> = { "x-queue-type": "quorum" }): Promise<string> {
    const name = this.name(prefix);
    await this.run((channel) => channel.assertQueue(name, { durable: true, arguments: args }));
    this.created.push({ kind: "queue", name });
    return name;
  }

  async exchange(prefix: string, bindings: { queue: string; key: string }[] = []): Promise<string> {
    const name = this.name(prefix);
    await this.run(async (channel) => {
      await channel.assertExchange(name, "topic", { durable: true });
      for (const { queue, key } of bindings) await channel.bindQueue(queue, name, key);
    });
    this.created.push({ kind: "exchange", name });
    return name;
  }

  /** Takes (and acknowledges) every message in the queue. */
  async drain(queue: string): Promise<GetMessage[]> {
    return this.run(async (channel) => {
      const messages: GetMessage[] = [];
      for (let message = await channel.get(queue); message; message = await channel.get(queue)) {
        messages.push(message);
        channel.ack(message);
      }
      return messages;
    });
  }

  async count(queue: string): Promise<number> {
    return this.run(async (channel) => (await channel.checkQueue(queue)).messageCount);
  }

  private async run<T>(
    work: (channel: Awaited<ReturnType<ChannelModel["createChannel"]>>) => Promise<T>,
  ): Promise<T> {
    const channel = await this.connection.createChannel();
    channel.on("error", () => undefined);
    try {
      return await work(channel);
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  async remove(): Promise<void> {
    for (const { kind, name } of this.created)
      await this.run((channel) =>
        kind === "queue" ? channel.deleteQueue(name) : channel.deleteExchange(name),
      ).catch(() => undefined);
    await this.connection.close().catch(() => undefined);
  }
}
