import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { join } from "node:path";
import { withMachineRequirement } from "@flow/testing";
import Database from "better-sqlite3";
import { FlowProcess, serviceMain } from "./test-support/flow-cli";
import { tempDir } from "./test-support/temp-dir";

const NATS_URL = process.env.FLOW_TEST_NATS_URL || "nats://127.0.0.1:4222";
// The NATS client is a dependency of the NATS services, not of this package: load theirs.
const natsClientPath = createRequire(serviceMain("@flow/source-nats")).resolve("nats");

/** The parts of the NATS client this file uses. */
interface Nats {
  connect(options: { servers: string }): Promise<{
    jetstreamManager(): Promise<{
      streams: {
        add(config: { name: string; subjects: string[] }): Promise<unknown>;
        info(name: string): Promise<{ state: { messages: number } }>;
        delete(name: string): Promise<boolean>;
      };
      consumers: {
        info(stream: string, name: string): Promise<{ num_ack_pending: number; num_pending: number }>;
      };
    }>;
    close(): Promise<void>;
  }>;
}

function natsAvailable(): { available: true } | { available: false; reason: string } {
  const probe = `require(${JSON.stringify(natsClientPath)}).connect({ servers: ${JSON.stringify(NATS_URL)}, timeout: 3000, maxReconnectAttempts: 0 })
    .then(async (nc) => { await (await nc.jetstreamManager()).getAccountInfo(); await nc.close(); })
    .catch((e) => { process.stderr.write(String(e.message || e)); process.exit(1); });`;
  try {
    execFileSync(process.execPath, ["-e", probe], { stdio: ["ignore", "ignore", "pipe"], timeout: 10_000 });
    return { available: true };
  } catch (error) {
    return {
      available: false,
      reason: (error as { stderr?: Buffer }).stderr?.toString().trim() || String(error),
    };
  }
}

withMachineRequirement(
  "NATS JetStream",
  natsAvailable(),
  `start nats-server -js on ${NATS_URL} (.ci/run starts it)`,
  () => {
    describe("generator → consumer-nats → JetStream → source-nats → SQLite", () => {
      const dir = tempDir("nats");
      afterAll(() => dir.remove());

      it("delivers every event exactly once into the idempotent sink, through a SIGKILL of the NATS source", async () => {
        const nats = require(natsClientPath) as Nats;
        const stream = `flowe2e_${randomBytes(4).toString("hex")}`;
        const nc = await nats.connect({ servers: NATS_URL });
        const jsm = await nc.jetstreamManager();
        await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
        try {
          const total = 20_000;
          const db = join(dir.path, "out.db");
          const file = dir.file(
            "pipeline.yaml",
            `
apiVersion: flow/v1
kind: Pipeline
metadata: { name: nats-round-trip }
defaults: { batch: { maxSize: 100 }, inFlight: 8, restart: { initialDelayMs: 50 } }
sources:
  - id: gen
    command: [node, ${JSON.stringify(serviceMain("@flow/source-generator"))}]
    config: { count: ${total}, rate: 10000 }
  - id: from-nats
    command: [node, ${JSON.stringify(serviceMain("@flow/source-nats"))}]
    config: { servers: [${JSON.stringify(NATS_URL)}], stream: ${stream}, ackWaitMs: 2000 }
consumers:
  - id: to-nats
    command: [node, ${JSON.stringify(serviceMain("@flow/consumer-nats"))}]
    inputs: [gen]
    config: { servers: [${JSON.stringify(NATS_URL)}], subject: ${stream}.orders, stream: ${stream} }
  - id: db
    command: [node, ${JSON.stringify(serviceMain("@flow/consumer-sqlite"))}]
    inputs: [from-nats]
    config: { path: ${JSON.stringify(db)}, table: events }
`,
          );
          const run = new FlowProcess(["run", file], { cwd: dir.path });
          const started = await run.waitForLog(/"stage":"from-nats".*"msg":"service started"/);
          const pid = (JSON.parse(started) as { pid: number }).pid;
          await run.waitForLog(/"stageId":"db","eventsIn":\d+,"eventsOut":[1-9].*"msg":"progress"/);
          process.kill(pid, "SIGKILL");

          // The source never ends (a stream has no end): wait for the sink to hold every id, then stop the run.
          const distinct = (): number => {
            try {
              const reader = new Database(db, { readonly: true });
              try {
                return (reader.prepare("select count(distinct id) as n from events").get() as { n: number })
                  .n;
              } finally {
                reader.close();
              }
            } catch {
              return 0;
            }
          };
          while (distinct() < total) {
            if (run.child.exitCode !== null) throw new Error(`flow exited early:\n${run.stderr}`);
            await new Promise((resolve) => setTimeout(resolve, 200));
          }
          run.kill("SIGTERM");
          const result = await run.wait();

          expect(result.code).toBe(130);
          expect(result.stderr).toMatch(/"stage":"from-nats".*"msg":"service restarted"/);
          const reader = new Database(db, { readonly: true });
          const { rows, uniq } = reader
            .prepare("select count(*) as rows, count(distinct id) as uniq from events")
            .get() as { rows: number; uniq: number };
          reader.close();
          expect(uniq).toBe(total);
          expect(rows).toBe(total);
          // Nats-Msg-Id kept the stream free of duplicates; every message was acknowledged after its commit.
          expect((await jsm.streams.info(stream)).state.messages).toBe(total);
          const consumer = await jsm.consumers.info(stream, "flow-from-nats");
          expect(consumer.num_pending).toBe(0);
          expect(consumer.num_ack_pending).toBe(0);
        } finally {
          await jsm.streams.delete(stream).catch(() => undefined);
          await nc.close();
        }
      });
    });
  },
);
