import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { withMachineRequirement } from "@flow/testing";
import {
  expectExactlyOnceThroughServiceKills,
  expectNoneLostThroughCoreKill,
  type RoundTrip,
} from "./test-support/broker-round-trip";
import { serviceMain } from "./test-support/flow-cli";
import { tempDir } from "./test-support/temp-dir";

const BROKER_URL = process.env.FLOW_TEST_RABBITMQ_URL || "amqp://guest:guest@127.0.0.1:5672";
const SOURCE_MAIN = serviceMain("@flow/source-rabbitmq");
const CONSUMER_MAIN = serviceMain("@flow/consumer-rabbitmq");

/** The broker client the RabbitMQ services use, for setting up and inspecting the test's queue. */
interface AmqpClient {
  connect(url: string): Promise<{
    createChannel(): Promise<{
      assertQueue(name: string, options: object): Promise<unknown>;
      checkQueue(name: string): Promise<{ messageCount: number; consumerCount: number }>;
      deleteQueue(name: string): Promise<unknown>;
      close(): Promise<void>;
    }>;
    close(): Promise<void>;
  }>;
}
const amqplibPath = createRequire(SOURCE_MAIN).resolve("amqplib");
const amqp = require(amqplibPath) as AmqpClient;

function brokerAnswers(): { available: true } | { available: false; reason: string } {
  try {
    execFileSync(
      process.execPath,
      [
        "-e",
        `require(${JSON.stringify(amqplibPath)}).connect(process.argv[1]).then((c) => c.close(), (e) => { console.error(e.message); process.exit(1); })`,
        BROKER_URL,
      ],
      { stdio: ["ignore", "ignore", "pipe"], timeout: 10_000 },
    );
    return { available: true };
  } catch (error) {
    return {
      available: false,
      reason: (error as { stderr?: Buffer }).stderr?.toString().trim() || String(error),
    };
  }
}

function trip(name: string, queue: string, total: number, stopWhenIdleMs: number): RoundTrip {
  const url = JSON.stringify(BROKER_URL);
  return {
    name,
    total,
    rate: 10_000,
    defaults: "{ batch: { maxSize: 100 }, inFlight: 8, restart: { initialDelayMs: 50 } }",
    consumer: { main: CONSUMER_MAIN, config: `{ url: ${url}, routingKey: ${JSON.stringify(queue)} }` },
    // The source ends once the queue has been quiet this long, so the run ends by itself (exit 0) with
    // every redelivery read and acknowledged (a SIGTERM would requeue what its prefetch still holds).
    source: {
      main: SOURCE_MAIN,
      config: `{ url: ${url}, queue: ${JSON.stringify(queue)}, prefetch: 800, stopWhenIdleMs: ${stopWhenIdleMs} }`,
    },
  };
}

describe("generator → @flow/consumer-rabbitmq → RabbitMQ → @flow/source-rabbitmq → SQLite", () => {
  withMachineRequirement(
    "RabbitMQ",
    brokerAnswers(),
    "start RabbitMQ (.ci/start-services.sh) or set FLOW_TEST_RABBITMQ_URL",
    () => {
      const dir = tempDir("rabbitmq");
      let connection: Awaited<ReturnType<AmqpClient["connect"]>>;
      let queue: string;

      beforeAll(async () => {
        connection = await amqp.connect(BROKER_URL);
      });
      beforeEach(async () => {
        queue = `flow-e2e-${process.pid}-${randomBytes(4).toString("hex")}`;
        const channel = await connection.createChannel();
        await channel.assertQueue(queue, { durable: true, arguments: { "x-queue-type": "quorum" } });
        await channel.close();
      });
      afterEach(async () => {
        const channel = await connection.createChannel();
        await channel.deleteQueue(queue);
        await channel.close();
      });
      afterAll(async () => {
        await connection.close();
        dir.remove();
      });

      /** Every message was acknowledged after its commit: none ready, and no consumer holding any unacked. */
      async function expectQueueEmpty(): Promise<void> {
        const channel = await connection.createChannel();
        expect(await channel.checkQueue(queue)).toEqual(
          expect.objectContaining({ messageCount: 0, consumerCount: 0 }),
        );
        await channel.close();
      }

      // 8 s of quiet: a consumer being restarted after its SIGKILL can leave the queue quiet for seconds.
      it("100,000 events land exactly once in SQLite, through a SIGKILL of the RabbitMQ consumer and then of the RabbitMQ source, and the queue ends empty", async () => {
        const round = trip("rabbitmq-round-trip", queue, 100_000, 8000);
        await expectExactlyOnceThroughServiceKills(dir, round, { endsByItself: true });
        await expectQueueEmpty();
      }, 120_000);

      it("a SIGKILL of Core mid-run, then a rerun: no id lost, and no message left in the queue", async () => {
        const round = trip("rabbitmq-core-kill", queue, 20_000, 3000);
        await expectNoneLostThroughCoreKill(dir, round, { endsByItself: true });
        await expectQueueEmpty();
      }, 120_000);
    },
  );
});
