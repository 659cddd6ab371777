import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { type MachineRequirement, withMachineRequirement } from "@flow/testing";
import mysql from "mysql2/promise";
import { servicePid } from "./test-support/broker-round-trip";
import { FlowProcess, serviceMain } from "./test-support/flow-cli";
import { tempDir } from "./test-support/temp-dir";

// generator -> consumer-mysql under the real `flow run`, with the consumer service and then Core
// SIGKILLed mid-run: every generated id ends up in the table exactly once.

const STAGE = "db";
const url = process.env.FLOW_TEST_MYSQL_URL || "mysql://root@127.0.0.1:3306/test";

/** Whether MariaDB answers, asked synchronously (jest registers tests while loading the file). */
function mariadb(): MachineRequirement {
  try {
    execFileSync(
      process.execPath,
      ["-e", `require("mysql2/promise").createConnection(${JSON.stringify(url)}).then((c) => c.end())`],
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

withMachineRequirement(
  `MariaDB/MySQL at ${url}`,
  mariadb(),
  "start MariaDB (or set FLOW_TEST_MYSQL_URL)",
  () => {
    describe("generator -> consumer-mysql -> MariaDB", () => {
      const dir = tempDir("mysql-consumer");
      let db: mysql.Connection;
      let table: string;
      beforeAll(async () => {
        db = await mysql.createConnection(url);
      });
      beforeEach(() => {
        table = `flow_e2e_${process.pid}_${randomBytes(4).toString("hex")}`;
      });
      afterEach(async () => {
        await db.query(`DROP TABLE IF EXISTS \`${table}\``);
      });
      afterAll(async () => {
        await db.end();
        dir.remove();
      });

      function pipeline(name: string, total: number): string {
        return dir.file(
          `${name}.yaml`,
          `
apiVersion: flow/v1
kind: Pipeline
metadata: { name: ${name} }
defaults: { batch: { maxSize: 200 }, inFlight: 4, restart: { initialDelayMs: 50 } }
sources:
  - id: gen
    command: [node, ${JSON.stringify(serviceMain("@flow/source-generator"))}]
    config: { count: ${total}, rate: 10000 }
consumers:
  - id: ${STAGE}
    command: [node, ${JSON.stringify(serviceMain("@flow/consumer-mysql"))}]
    inputs: [gen]
    config: { url: ${JSON.stringify(url)}, table: ${table}, createTable: true }
`,
        );
      }

      /** Rows, distinct ids, and ids that are one of gen-1 ... gen-<total> (zeros before the table exists). */
      async function counts(total: number): Promise<{ rows: number; ids: number; generated: number }> {
        const [rows] = await db
          .query(
            `SELECT count(*) AS \`rows\`, count(DISTINCT id) AS ids,
                  count(DISTINCT CASE WHEN id REGEXP '^gen-[0-9]+$' AND CAST(SUBSTRING(id, 5) AS UNSIGNED) BETWEEN 1 AND ? THEN id END) AS generated
             FROM \`${table}\``,
            [total],
          )
          .catch(() => [[{ rows: 0, ids: 0, generated: 0 }]]);
        const [row] = rows as { rows: number; ids: number; generated: number }[];
        return {
          rows: Number(row?.rows ?? 0),
          ids: Number(row?.ids ?? 0),
          generated: Number(row?.generated ?? 0),
        };
      }

      /** Resolves once the table holds `atLeast` ids; rejects when flow exits first. */
      async function holds(run: FlowProcess, atLeast: number): Promise<void> {
        while ((await counts(Number.MAX_SAFE_INTEGER)).ids < atLeast) {
          if (run.child.exitCode !== null) throw new Error(`flow exited early:\n${run.stderr.slice(-3000)}`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }

      async function ranToTheEnd(run: FlowProcess): Promise<void> {
        const result = await run.wait();
        if (result.code !== 0) throw new Error(`flow exited ${result.code}:\n${result.stderr.slice(-3000)}`);
      }

      it("100,000 events land exactly once in the table, through a SIGKILL of the consumer service", async () => {
        const total = 100_000;
        const run = new FlowProcess(["run", pipeline("mysql-consumer-kill", total)], { cwd: dir.path });
        const consumerPid = await servicePid(run, STAGE);
        await holds(run, 20_000);
        process.kill(consumerPid, "SIGKILL");
        await run.waitForLog(new RegExp(`"stage":"${STAGE}".*"msg":"service restarted"`));
        await ranToTheEnd(run);
        expect(await counts(total)).toEqual({ rows: total, ids: total, generated: total });
      }, 180_000);

      it("a SIGKILL of Core mid-run, then a rerun: every id once", async () => {
        const total = 50_000;
        const file = pipeline("mysql-core-kill", total);
        const first = new FlowProcess(["run", file], { cwd: dir.path });
        await holds(first, Math.floor(total * (0.2 + Math.random() * 0.4)));
        first.kill("SIGKILL");
        expect((await first.wait()).signal).toBe("SIGKILL");
        const before = (await counts(total)).ids;
        expect(before).toBeLessThan(total);
        await ranToTheEnd(new FlowProcess(["run", file], { cwd: dir.path }));
        expect(await counts(total)).toEqual({ rows: total, ids: total, generated: total });
      }, 180_000);
    });
  },
);
