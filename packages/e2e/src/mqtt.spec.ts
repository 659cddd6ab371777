import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { withMachineRequirement } from "@flow/testing";
import Database from "better-sqlite3";
import { FlowProcess, serviceMain } from "./test-support/flow-cli";
import { tempDir } from "./test-support/temp-dir";

// The MQTT services are referenced by their built programs (this package does not depend on them).
const repository = join(__dirname, "..", "..", "..");
const SOURCE_MQTT = join(repository, "sources", "mqtt", "dist", "main.js");
const CONSUMER_MQTT = join(repository, "consumers", "mqtt", "dist", "main.js");
const MQTT_URL = process.env.FLOW_TEST_MQTT_URL || "mqtt://127.0.0.1:1883";

/** Whether Mosquitto answers a TCP connection (synchronous: jest decides the tests while loading). */
function brokerAnswers(): { available: true } | { available: false; reason: string } {
  const { hostname, port } = new URL(MQTT_URL);
  const probe = `require("node:net").connect(${Number(port) || 1883}, ${JSON.stringify(hostname)})
    .on("connect", function () { this.end(); }).on("error", (e) => { process.stderr.write(e.message); process.exit(1); });`;
  try {
    execFileSync(process.execPath, ["-e", probe], { stdio: ["ignore", "ignore", "pipe"], timeout: 5000 });
    return { available: true };
  } catch (error) {
    return { available: false, reason: (error as { stderr?: Buffer }).stderr?.toString() || String(error) };
  }
}

withMachineRequirement(
  `the MQTT broker at ${MQTT_URL}`,
  brokerAnswers(),
  "start Mosquitto (.ci/run starts it)",
  () => {
    describe("generator → consumer-mqtt → Mosquitto → source-mqtt → SQLite", () => {
      const dir = tempDir("mqtt");
      const clientId = `flow-e2e-${process.pid}-${randomBytes(4).toString("hex")}`;
      afterAll(() => dir.remove());

      it("lands every event exactly once, also when the MQTT source is killed with SIGKILL mid-run", async () => {
        expect(existsSync(SOURCE_MQTT) && existsSync(CONSUMER_MQTT)).toBe(true);
        const total = 3000;
        const topic = `flow-e2e/${clientId}`;
        const db = join(dir.path, "out.db");
        const file = dir.file(
          "pipeline.yaml",
          `
apiVersion: flow/v1
kind: Pipeline
metadata: { name: mqtt-round-trip }
defaults: { batch: { maxSize: 100 }, inFlight: 4, restart: { initialDelayMs: 50 } }
sources:
  - id: gen
    command: [node, ${JSON.stringify(serviceMain("@flow/source-generator"))}]
    config: { count: ${total}, rate: 300 }
  - id: mqttin
    command: [node, ${JSON.stringify(SOURCE_MQTT)}]
    config: { url: ${JSON.stringify(MQTT_URL)}, clientId: ${JSON.stringify(clientId)}, topics: [${JSON.stringify(topic)}], sessionExpirySeconds: 300 }
consumers:
  - id: mqttout
    command: [node, ${JSON.stringify(CONSUMER_MQTT)}]
    inputs: [gen]
    config: { url: ${JSON.stringify(MQTT_URL)}, topic: ${JSON.stringify(topic)} }
  - id: db
    command: [node, ${JSON.stringify(serviceMain("@flow/consumer-sqlite"))}]
    inputs: [mqttin]
    config: { path: ${JSON.stringify(db)}, table: events }
`,
        );
        const run = new FlowProcess(["run", file], { cwd: dir.path });
        const started = await run.waitForLog(/"stage":"mqttin".*"msg":"service started"/);
        const pid = (JSON.parse(started) as { pid: number }).pid;
        await run.waitForLog(/"stageId":"db","eventsIn":\d+,"eventsOut":[1-9].*"msg":"progress"/);
        process.kill(pid, "SIGKILL");
        await run.waitForLog(/"stage":"mqttin".*"msg":"service restarted"/);

        // The MQTT source never runs dry: wait, on each log line, until every id is in SQLite, then stop the run.
        const distinctIds = (): number => {
          if (!existsSync(db)) return 0;
          const database = new Database(db, { readonly: true, fileMustExist: true });
          try {
            return (database.prepare("select count(distinct id) as n from events").get() as { n: number }).n;
          } catch {
            return 0; // the table is not there yet
          } finally {
            database.close();
          }
        };
        await new Promise<void>((resolve, reject) => {
          const check = (): void => {
            if (distinctIds() >= total) {
              run.child.stderr?.off("data", check);
              resolve();
            }
          };
          run.child.stderr?.on("data", check);
          run
            .wait()
            .then((result) =>
              reject(new Error(`flow exited (${result.code}) early:\n${result.stderr.slice(-3000)}`)),
            );
          check();
        });
        run.kill("SIGTERM");
        const result = await run.wait();
        expect(result.code).toBe(130);

        const database = new Database(db, { readonly: true });
        const { rows, uniq } = database
          .prepare("select count(*) as rows, count(distinct id) as uniq from events")
          .get() as {
          rows: number;
          uniq: number;
        };
        database.close();
        expect(uniq).toBe(total);
        expect(rows).toBe(total); // an idempotent sink: a redelivered CloudEvent keeps its id and adds no row
      }, 120_000);

      afterAll(async () => {
        // Remove the source's persistent session (clean start, expiry 0).
        const mqtt = require(require.resolve("mqtt", { paths: [join(repository, "sources", "mqtt")] }));
        const client = await mqtt.connectAsync(MQTT_URL, {
          clientId,
          clean: true,
          protocolVersion: 5,
          reconnectPeriod: 0,
          properties: { sessionExpiryInterval: 0 },
        });
        await client.endAsync();
      });
    });
  },
);
