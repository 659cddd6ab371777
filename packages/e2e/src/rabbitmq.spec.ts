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

function rabbitmqctl(...args: string[]): string {
  return execFileSync("rabbitmqctl", [...args, "-q", "--no-table-headers"], {
    encoding: "utf8",
    timeout: 30_000,
    stdio: ["ignore", "pipe", "pipe"],
  });
}

const rows = (text: string): string[][] =>
  text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => line.split("\t"));

/**
 * The messages RabbitMQ has delivered to the queue's consumers and not had acknowledged, summed over
 * their channels. Asked of each channel (list_channels), which answers with its live count; a
 * queue's own counters (list_queues) are statistics refreshed every few seconds.
 */
function unacknowledgedByConsumers(queue: string): { consumers: number; unacknowledged: number } {
  const channels = new Set(
    rows(rabbitmqctl("list_consumers", "queue_name", "channel_pid"))
      .filter(([name]) => name === queue)
      .map(([, pid]) => pid),
  );
  let unacknowledged = 0;
  for (const [pid, count] of rows(rabbitmqctl("list_channels", "pid", "messages_unacknowledged")))
    if (channels.has(pid)) unacknowledged += Number(count);
  return { consumers: channels.size, unacknowledged };
}

/** The broker answers AMQP, and rabbitmqctl may ask it what it holds (it needs the node's cookie). */
function brokerAndCtlAnswer(): { available: true } | { available: false; reason: string } {
  const broker = brokerAnswers();
  if (!broker.available) return broker;
  try {
    rabbitmqctl("list_channels", "pid");
    return { available: true };
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    return { available: false, reason: `rabbitmqctl list_channels: ${stderr || String(error)}` };
  }
}

function trip(name: string, queue: string, total: number, stopWhenIdleMs?: number): RoundTrip {
  const url = JSON.stringify(BROKER_URL);
  return {
    name,
    total,
    rate: 10_000,
    defaults: "{ batch: { maxSize: 100 }, inFlight: 8, restart: { initialDelayMs: 50 } }",
    consumer: { main: CONSUMER_MAIN, config: `{ url: ${url}, routingKey: ${JSON.stringify(queue)} }` },
    // With stopWhenIdleMs the source ends once the queue has been quiet this long, so the run ends by
    // itself (exit 0) with every redelivery read and acknowledged; without it the run goes on until
    // the test stops it.
    source: {
      main: SOURCE_MAIN,
      config: `{ url: ${url}, queue: ${JSON.stringify(queue)}, prefetch: 800${stopWhenIdleMs === undefined ? "" : `, stopWhenIdleMs: ${stopWhenIdleMs}`} }`,
    },
  };
}

describe("generator → @flow/consumer-rabbitmq → RabbitMQ → @flow/source-rabbitmq → SQLite", () => {
  withMachineRequirement(
    "RabbitMQ and rabbitmqctl",
    brokerAndCtlAnswer(),
    "start RabbitMQ (.ci/start-services.sh) or set FLOW_TEST_RABBITMQ_URL, and run the tests as a user whose rabbitmqctl reaches the node (root or rabbitmq)",
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

      /** The queue's live counts (queue.declare, passive): messages ready, and consumers attached. */
      async function queueNow(): Promise<{ messageCount: number; consumerCount: number }> {
        const channel = await connection.createChannel();
        try {
          return await channel.checkQueue(queue);
        } finally {
          await channel.close();
        }
      }

      /**
       * After the run: no consumer left and no message ready. A message still unacknowledged when the
       * source's channel closed would be ready again now, so this also says none was left unacked.
       */
      async function expectQueueEmpty(): Promise<void> {
        expect(await queueNow()).toEqual(expect.objectContaining({ messageCount: 0, consumerCount: 0 }));
      }

      /**
       * While the rerun's source is still attached: nothing ready and nothing delivered to it left
       * unacknowledged, as RabbitMQ counts them (an unacked message would only be requeued once the
       * source's channel closed, so this is asked before the run is stopped).
       */
      const settled = async (): Promise<boolean> => {
        const { consumers, unacknowledged } = unacknowledgedByConsumers(queue);
        expect(consumers).toBe(1);
        return unacknowledged === 0 && (await queueNow()).messageCount === 0;
      };

      // 8 s of quiet: a consumer being restarted after its SIGKILL can leave the queue quiet for seconds.
      it("100,000 events land exactly once in SQLite, through a SIGKILL of the RabbitMQ consumer and then of the RabbitMQ source, and the queue ends empty", async () => {
        const round = trip("rabbitmq-round-trip", queue, 100_000, 8000);
        await expectExactlyOnceThroughServiceKills(dir, round, { endsByItself: true });
        await expectQueueEmpty();
      }, 120_000);

      it("a SIGKILL of Core mid-run, then a rerun: no id lost, none left unacknowledged while the source runs, and the queue ends empty", async () => {
        const round = trip("rabbitmq-core-kill", queue, 20_000);
        await expectNoneLostThroughCoreKill(dir, round, { settled });
        await expectQueueEmpty();
      }, 120_000);
    },
  );
});
