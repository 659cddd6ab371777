import { createRequire } from "node:module";
import { join } from "node:path";
import { createEvent, type FlowEvent } from "@flow/sdk";
import { REPO_ROOT } from "../broker/broker-clients";
import { syntheticPayload } from "../codec/synthetic-events";
import { DATABASE_URLS, postgresClient } from "./database-targets";

// consumer-postgres's two ways of writing a batch, measured on its own session (the code the
// service runs, loaded from its build): one multi-row INSERT ... ON CONFLICT, or COPY into a
// temporary table and one INSERT ... SELECT ... ON CONFLICT. The batch size from which COPY wins
// is what the consumer's copyThreshold default is set from.

interface Session {
  close(): Promise<void>;
}
interface PostgresConsumerModule {
  openPostgresSession(options: object): Promise<Session>;
  createTableSql(config: object, shape: object): string;
}
interface SqlRowsModule {
  EventRows: new (
    config: object,
  ) => { shape: object; build(events: FlowEvent[]): Promise<{ rows: unknown[] }> };
  commitBatch(session: Session, rows: unknown[], errors: object): Promise<unknown[]>;
}

const packageDir = join(REPO_ROOT, "consumers", "postgres");
const load = createRequire(join(packageDir, "package.json"));

/** Events/s of writing `events` in batches of `batchSize` through one path, into a fresh table. */
export async function postgresWriteRate(
  path: "insert" | "copy",
  batchSize: number,
  events: number,
): Promise<number> {
  const consumer = load(join(packageDir, "dist", "index.js")) as PostgresConsumerModule & {
    postgresErrors: object;
  };
  const sqlRows = load("@flow/sql-rows") as SqlRowsModule;
  const table = `bench_copy_${process.pid}_${Date.now().toString(36)}`;
  const config = { table, createTable: true, key: ["id"], onConflict: "nothing", timeoutMs: 1000 };
  const rows = new sqlRows.EventRows(config);
  const session = await consumer.openPostgresSession({
    url: DATABASE_URLS.postgres,
    table,
    shape: rows.shape,
    copyThreshold: path === "copy" ? 1 : Number.MAX_SAFE_INTEGER,
    connectTimeoutMs: 10_000,
    statementTimeoutMs: 60_000,
    createTableSql: consumer.createTableSql(config, rows.shape),
  });
  const payload = syntheticPayload();
  try {
    let elapsed = 0n;
    for (let start = 0; start < events; start += batchSize) {
      const batch = Array.from({ length: Math.min(batchSize, events - start) }, (_, i) =>
        createEvent({
          id: `gen-${start + i}`,
          source: "bench",
          type: "flow.generated",
          time: new Date(),
          datacontenttype: "application/json",
          data: payload,
        }),
      );
      // Rows are built outside the clock: the same work for both paths.
      const built = await rows.build(batch);
      const began = process.hrtime.bigint();
      await sqlRows.commitBatch(session, built.rows, consumer.postgresErrors);
      elapsed += process.hrtime.bigint() - began;
    }
    return events / Math.max(0.001, Number(elapsed) / 1e9);
  } finally {
    const client = await postgresClient();
    await client.query(`DROP TABLE IF EXISTS "${table}"`);
    await client.end();
    await session.close();
  }
}
