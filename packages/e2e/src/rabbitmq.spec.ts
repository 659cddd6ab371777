import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { join } from "node:path";
import { withMachineRequirement } from "@flow/testing";
import Database from "better-sqlite3";
import { FlowProcess, serviceMain } from "./test-support/flow-cli";
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

describe("generator → @flow/consumer-rabbitmq → RabbitMQ → @flow/source-rabbitmq → SQLite", () => {
  withMachineRequirement(
    "RabbitMQ",
    brokerAnswers(),
    "start RabbitMQ (.ci/start-services.sh) or set FLOW_TEST_RABBITMQ_URL",
    () => {
      const dir = tempDir("rabbitmq");
      const queue = `flow-e2e-${process.pid}-${randomBytes(4).toString("hex")}`;
      let connection: Awaited<ReturnType<AmqpClient["connect"]>>;

      beforeAll(async () => {
        connection = await amqp.connect(BROKER_URL);
        const channel = await connection.createChannel();
        await channel.assertQueue(queue, { durable: true, arguments: { "x-queue-type": "quorum" } });
      });
      afterAll(async () => {
        const channel = await connection.createChannel();
        await channel.deleteQueue(queue);
        await connection.close();
        dir.remove();
      });

      it("every event lands exactly once in SQLite, though the RabbitMQ source is SIGKILLed mid-run, and the queue ends empty", async () => {
        const total = 20_000;
        const database = join(dir.path, "out.db");
        const file = dir.file(
          "pipeline.yaml",
          `
apiVersion: flow/v1
kind: Pipeline
metadata: { name: rabbitmq-round-trip }
defaults: { batch: { maxSize: 100 }, inFlight: 8, restart: { initialDelayMs: 50 } }
sources:
  - id: gen
    command: [node, ${JSON.stringify(serviceMain("@flow/source-generator"))}]
    config: { count: ${total}, rate: 10000 }
  - id: from-queue
    command: [node, ${JSON.stringify(SOURCE_MAIN)}]
    config: { url: ${JSON.stringify(BROKER_URL)}, queue: ${JSON.stringify(queue)}, prefetch: 800, stopWhenIdleMs: 5000 }
consumers:
  - id: to-queue
    command: [node, ${JSON.stringify(CONSUMER_MAIN)}]
    inputs: [gen]
    config: { url: ${JSON.stringify(BROKER_URL)}, routingKey: ${JSON.stringify(queue)} }
  - id: db
    command: [node, ${JSON.stringify(serviceMain("@flow/consumer-sqlite"))}]
    inputs: [from-queue]
    config: { path: ${JSON.stringify(database)}, table: events }
`,
        );
        const run = new FlowProcess(["run", file], { cwd: dir.path });
        const started = await run.waitForLog(/"stage":"from-queue".*"msg":"service started"/);
        const pid = (JSON.parse(started) as { pid: number }).pid;
        await run.waitForLog(/"stageId":"db","eventsIn":\d+,"eventsOut":[1-9].*"msg":"progress"/);
        process.kill(pid, "SIGKILL");
        const result = await run.wait();

        expect(result.code).toBe(0);
        expect(result.stderr).toMatch(/"stage":"from-queue".*"msg":"service restarted"/);
        const db = new Database(database, { readonly: true });
        const counts = db.prepare("select count(*) as rows, count(distinct id) as ids from events").get();
        db.close();
        expect(counts).toEqual({ rows: total, ids: total });
        // Every message was acknowledged after its commit: none is left in the queue.
        const channel = await connection.createChannel();
        expect(await channel.checkQueue(queue)).toEqual(
          expect.objectContaining({ messageCount: 0, consumerCount: 0 }),
        );
      });
    },
  );
});
