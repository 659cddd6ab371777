import { randomBytes } from "node:crypto";
import { withPostgres } from "@flow/testing";
import pg from "pg";
import { generatorToConsumer } from "./test-support/generator-to-consumer";
import { sqlConsumerFaultTests } from "./test-support/sql-consumer-faults";
import { tempDir } from "./test-support/temp-dir";

// generator -> consumer-postgres under the real `flow run`, with the consumer service and then Core
// SIGKILLed mid-run: every generated id ends up in the table exactly once.

const STAGE = "db";

withPostgres((url) => {
  describe("generator -> consumer-postgres -> PostgreSQL", () => {
    const dir = tempDir("postgres-consumer");
    let db: pg.Client;
    let table: string;
    beforeAll(async () => {
      db = new pg.Client({ connectionString: url });
      await db.connect();
    });
    beforeEach(() => {
      table = `flow_e2e_${process.pid}_${randomBytes(4).toString("hex")}`;
    });
    afterEach(async () => {
      await db.query(`DROP TABLE IF EXISTS "${table}"`);
    });
    afterAll(async () => {
      await db.end();
      dir.remove();
    });

    const pipeline = (name: string, total: number): string =>
      generatorToConsumer(dir, name, total, {
        stage: STAGE,
        packageName: "@flow/consumer-postgres",
        config: `{ url: ${JSON.stringify(url)}, table: ${table}, createTable: true }`,
      });

    /** Rows, distinct ids, and ids that are one of gen-1 ... gen-<total> (zeros before the table exists). */
    async function counts(total: number): Promise<{ rows: number; ids: number; generated: number }> {
      const result = await db
        .query<{ rows: number; ids: number; generated: number }>(
          `SELECT count(*)::int AS rows, count(DISTINCT id)::int AS ids,
                  count(DISTINCT id) FILTER (WHERE id ~ '^gen-[0-9]+$' AND substr(id, 5)::bigint BETWEEN 1 AND $1)::int AS generated
             FROM "${table}"`,
          [total],
        )
        .catch(() => ({ rows: [{ rows: 0, ids: 0, generated: 0 }] }));
      return result.rows[0] ?? { rows: 0, ids: 0, generated: 0 };
    }

    it("counts nothing in a table that does not exist yet (what the fault tests read before the first batch)", async () => {
      expect(await counts(10)).toEqual({ rows: 0, ids: 0, generated: 0 });
    });

    sqlConsumerFaultTests({ prefix: "pg", cwd: () => dir.path, stage: STAGE, pipeline, counts });
  });
});
