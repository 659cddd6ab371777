import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import { join } from "node:path";
import mysql from "mysql2/promise";
import { type BrokerTarget, type PlainEvent, REPO_ROOT } from "../broker/broker-clients";

// The SQL consumers' tables as bench targets: a table made for the run with the consumer's own
// CREATE TABLE, the plain client's batch written as the consumer writes it (one transaction, one
// multi-row INSERT that skips an id already there, the same seven columns), and a count of the rows.

export const DATABASES = ["postgres", "mysql"] as const;
export type Database = (typeof DATABASES)[number];

export const DATABASE_URLS: Record<Database, string> = {
  postgres: process.env.FLOW_BENCH_POSTGRES_URL || "postgres://postgres@127.0.0.1:5432/test",
  mysql: process.env.FLOW_BENCH_MYSQL_URL || "mysql://root@127.0.0.1:3306/test",
};

export function databaseConsumerMain(database: Database): string {
  return join(REPO_ROOT, "consumers", database, "dist", "main.js");
}

/** What the bench uses of pg's Client, loaded from consumer-postgres (the bench has no @types/pg). */
export interface PgClient {
  connect(): Promise<void>;
  query<T = unknown>(sql: string, values?: unknown[]): Promise<{ rows: T[]; rowCount: number | null }>;
  on(event: "error", listener: () => void): void;
  end(): Promise<void>;
}

/** A connected client of the bench's PostgreSQL, from the pg the consumer uses. */
export async function postgresClient(): Promise<PgClient> {
  const pg = createRequire(join(REPO_ROOT, "consumers", "postgres", "package.json"))("pg") as {
    Client: new (options: { connectionString: string }) => PgClient;
  };
  const client = new pg.Client({ connectionString: DATABASE_URLS.postgres });
  client.on("error", () => undefined);
  await client.connect();
  return client;
}

interface SqlConsumerModule {
  createTableSql(config: object, shape: object): string;
}
interface SqlRowsModule {
  EVENT_COLUMNS: readonly string[];
  rowShape(config: object, fixed: readonly string[]): object;
}

/** The CREATE TABLE the consumer's createTable runs, from its build (the bench does not depend on it). */
function consumerCreateTable(database: Database, table: string): string {
  const packageDir = join(REPO_ROOT, "consumers", database);
  const consumer = createRequire(join(packageDir, "package.json"))(
    join(packageDir, "dist", "index.js"),
  ) as SqlConsumerModule;
  const rows = createRequire(join(packageDir, "package.json"))("@flow/sql-rows") as SqlRowsModule;
  const config = { table, createTable: true, key: ["id"], onConflict: "nothing", timeoutMs: 1000 };
  return consumer.createTableSql(config, rows.rowShape(config, rows.EVENT_COLUMNS));
}

const SOURCE = "bench/plain";
const TYPE = "flow.generated";
const ATTRIBUTES = JSON.stringify({ specversion: "1.0", datacontenttype: "application/json" });
const COLUMNS = "id, type, source, time, attributes, data, data_binary";

/**
 * What the table holds, asked cheaply: `count(*)` of a 100,000-row table takes some 15 ms here, and
 * the Flow run is polled every 10 ms, so the count is only run once the last expected id is there
 * (a primary-key probe); before that the answer is 0 or 1 (the first id there or not). The consumer
 * commits a stream's batches in order, so the last id present means all are.
 */
class ProbedCount {
  private expected: { first: string; last: string } | undefined;

  constructor(
    private readonly probe: (id: string) => Promise<boolean>,
    private readonly countAll: () => Promise<number>,
  ) {}

  expect(first: string, last: string): void {
    this.expected = { first, last };
  }

  async count(): Promise<number> {
    const expected = this.expected;
    if (!expected) return this.countAll();
    if (await this.probe(expected.last)) return this.countAll();
    return (await this.probe(expected.first)) ? 1 : 0;
  }
}

export interface DatabaseTarget extends BrokerTarget {
  /** The ids the next rows will have, first and last, for the cheap count. */
  expectIds(first: string, last: string): void;
}

async function postgresTarget(table: string): Promise<DatabaseTarget> {
  const client = await postgresClient();
  await client.query(consumerCreateTable("postgres", table));
  const quoted = `"${table}"`;
  const counter = new ProbedCount(
    async (id) => ((await client.query(`SELECT 1 FROM ${quoted} WHERE id = $1`, [id])).rowCount ?? 0) > 0,
    async () =>
      (await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${quoted}`)).rows[0]?.n ?? 0,
  );
  return {
    consumerConfig: `{ url: ${JSON.stringify(DATABASE_URLS.postgres)}, table: ${table} }`,
    count: () => counter.count(),
    expectIds: (first, last) => counter.expect(first, last),
    async publishBatch(events) {
      const time = new Date().toISOString();
      const values: unknown[] = [];
      const tuples = events.map((event, row) => {
        values.push(event.id, TYPE, SOURCE, time, ATTRIBUTES, event.body.toString("utf8"), null);
        return `(${Array.from({ length: 7 }, (_, column) => `$${row * 7 + column + 1}`).join(", ")})`;
      });
      await client.query("BEGIN");
      await client.query(
        `INSERT INTO ${quoted} (${COLUMNS}) VALUES ${tuples.join(", ")} ON CONFLICT (id) DO NOTHING`,
        values,
      );
      await client.query("COMMIT");
    },
    reset: async () => {
      await client.query(`TRUNCATE ${quoted}`);
    },
    async close() {
      await client.query(`DROP TABLE IF EXISTS ${quoted}`).catch(() => undefined);
      await client.end();
    },
  };
}

async function mysqlTarget(table: string): Promise<DatabaseTarget> {
  const connection = await mysql.createConnection({ uri: DATABASE_URLS.mysql, charset: "utf8mb4" });
  connection.on("error", () => undefined);
  await connection.query(consumerCreateTable("mysql", table));
  const quoted = `\`${table}\``;
  const counter = new ProbedCount(
    async (id) =>
      ((await connection.query(`SELECT 1 FROM ${quoted} WHERE id = ?`, [id]))[0] as unknown[]).length > 0,
    async () =>
      Number(
        ((await connection.query(`SELECT count(*) AS n FROM ${quoted}`))[0] as { n: number }[])[0]?.n ?? 0,
      ),
  );
  return {
    consumerConfig: `{ url: ${JSON.stringify(DATABASE_URLS.mysql)}, table: ${table} }`,
    count: () => counter.count(),
    expectIds: (first, last) => counter.expect(first, last),
    async publishBatch(events: PlainEvent[]) {
      const time = new Date().toISOString().replace("T", " ").replace("Z", "");
      const rows = events.map((event) => [
        event.id,
        TYPE,
        SOURCE,
        time,
        ATTRIBUTES,
        event.body.toString("utf8"),
        null,
      ]);
      await connection.query("START TRANSACTION");
      await connection.query(`INSERT INTO ${quoted} (${COLUMNS}) VALUES ? ON DUPLICATE KEY UPDATE id = id`, [
        rows,
      ]);
      await connection.query("COMMIT");
    },
    reset: async () => {
      await connection.query(`TRUNCATE TABLE ${quoted}`);
    },
    async close() {
      await connection.query(`DROP TABLE IF EXISTS ${quoted}`).catch(() => undefined);
      await connection.end();
    },
  };
}

export function openDatabaseTarget(database: Database): Promise<DatabaseTarget> {
  const table = `bench_${process.pid}_${randomUUID().slice(0, 8)}`;
  return database === "postgres" ? postgresTarget(table) : mysqlTarget(table);
}
