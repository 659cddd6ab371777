import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { type MachineRequirement, withMachineRequirement } from "@flow/testing";
import mysql from "mysql2/promise";
import { generatorToConsumer } from "./test-support/generator-to-consumer";
import { sqlConsumerFaultTests } from "./test-support/sql-consumer-faults";
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

      const pipeline = (name: string, total: number): string =>
        generatorToConsumer(dir, name, total, {
          stage: STAGE,
          packageName: "@flow/consumer-mysql",
          config: `{ url: ${JSON.stringify(url)}, table: ${table}, createTable: true }`,
        });

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

      it("counts nothing in a table that does not exist yet (what the fault tests read before the first batch)", async () => {
        expect(await counts(10)).toEqual({ rows: 0, ids: 0, generated: 0 });
      });

      sqlConsumerFaultTests({ prefix: "mysql", cwd: () => dir.path, stage: STAGE, pipeline, counts });
    });
  },
);
