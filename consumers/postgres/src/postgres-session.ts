import type { Socket } from "node:net";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { RowShape, SqlRow, SqlSession } from "@flow/sql-rows";
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { copyText } from "./copy-text";
import { quotedTable, quoteIdentifier } from "./postgres-table";

export interface PostgresSessionOptions {
  url: string;
  table: string;
  shape: RowShape;
  copyThreshold: number;
  connectTimeoutMs: number;
  statementTimeoutMs: number;
  /** Run once on connecting (CREATE TABLE IF NOT EXISTS), when the table may be created. */
  createTableSql?: string;
}

/** PostgreSQL takes at most 65535 parameters in one statement. */
const MAX_PARAMETERS = 65535;
/** The session's own temporary table a COPY fills; ON COMMIT DELETE ROWS empties it after every batch. */
const STAGING = "flow_batch_rows";
/** How long a closing connection may take to say goodbye before its socket is destroyed. */
const CLOSE_GRACE_MS = 1000;

/** A pg client that says which server it is for and never crashes the process when the server goes away. */
export function postgresClient(
  url: string,
  options: { connectTimeoutMs: number; statementTimeoutMs?: number },
) {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: options.connectTimeoutMs,
    query_timeout: options.statementTimeoutMs,
    keepAlive: true,
    application_name: "flow-consumer-postgres",
  });
  // Without a listener a lost server is an unhandled 'error' event (TOOLCHAIN-NOTES); the
  // failing query rejects by itself, and the writer opens a new connection after it.
  client.on("error", () => undefined);
  return client;
}

export async function openPostgresSession(options: PostgresSessionOptions): Promise<PostgresSession> {
  const client = postgresClient(options.url, options);
  try {
    await client.connect();
    if (options.createTableSql) await client.query(options.createTableSql);
    return new PostgresSession(client, options);
  } catch (error) {
    await closeClient(client);
    throw error;
  }
}

/**
 * One connection writing batches to one table. Small batches are one multi-row
 * `INSERT ... ON CONFLICT`; from `copyThreshold` rows on, COPY fills a temporary table and one
 * `INSERT ... SELECT ... ON CONFLICT` merges it (COPY has no ON CONFLICT of its own).
 */
export class PostgresSession implements SqlSession {
  private readonly table: string;
  private readonly columnList: string;
  private readonly conflict: string;
  private readonly insertTexts = new Map<number, string>();

  constructor(
    private readonly client: pg.Client,
    private readonly options: PostgresSessionOptions,
  ) {
    this.table = quotedTable(options.table);
    this.columnList = options.shape.columns.map(quoteIdentifier).join(", ");
    this.conflict = conflictClause(options.shape);
  }

  async begin(): Promise<void> {
    await this.client.query("BEGIN");
  }

  async commit(): Promise<void> {
    const result = await this.client.query("COMMIT");
    // COMMIT of a transaction an error aborted answers ROLLBACK, not an error.
    if (result.command !== "COMMIT")
      throw new Error(`COMMIT answered ${result.command}: the transaction was rolled back`);
  }

  async rollback(): Promise<void> {
    await this.client.query("ROLLBACK");
  }

  async insertAll(rows: SqlRow[]): Promise<void> {
    if (rows.length >= this.options.copyThreshold) return this.copyAndMerge(rows);
    const perStatement = Math.floor(MAX_PARAMETERS / this.options.shape.columns.length);
    for (let start = 0; start < rows.length; start += perStatement) {
      await this.insertValues(rows.slice(start, start + perStatement));
    }
  }

  async insertOne(row: SqlRow): Promise<void> {
    await this.client.query("SAVEPOINT flow_row");
    try {
      await this.insertValues([row]);
    } catch (error) {
      await this.client.query("ROLLBACK TO SAVEPOINT flow_row");
      throw error;
    }
    await this.client.query("RELEASE SAVEPOINT flow_row");
  }

  async close(): Promise<void> {
    await closeClient(this.client);
  }

  private async insertValues(rows: SqlRow[]): Promise<void> {
    await this.client.query(
      this.insertText(rows.length),
      rows.flatMap((row) => row.values),
    );
  }

  private insertText(rowCount: number): string {
    let text = this.insertTexts.get(rowCount);
    if (text === undefined) {
      const width = this.options.shape.columns.length;
      const tuples = Array.from(
        { length: rowCount },
        (_, row) =>
          `(${Array.from({ length: width }, (_, column) => `$${row * width + column + 1}`).join(", ")})`,
      );
      text = `INSERT INTO ${this.table} (${this.columnList}) VALUES ${tuples.join(", ")} ${this.conflict}`;
      this.insertTexts.set(rowCount, text);
    }
    return text;
  }

  private async copyAndMerge(rows: SqlRow[]): Promise<void> {
    await this.client.query(
      `CREATE TEMP TABLE IF NOT EXISTS ${STAGING} ON COMMIT DELETE ROWS AS SELECT ${this.columnList} FROM ${this.table} WITH NO DATA`,
    );
    const copy = this.client.query(copyFrom(`COPY pg_temp.${STAGING} (${this.columnList}) FROM STDIN`));
    await pipeline(Readable.from([copyText(rows.map((row) => row.values))]), copy);
    await this.client.query(
      `INSERT INTO ${this.table} (${this.columnList}) SELECT ${this.columnList} FROM pg_temp.${STAGING} ${this.conflict}`,
    );
  }
}

function conflictClause(shape: RowShape): string {
  const target = `(${shape.key.map(quoteIdentifier).join(", ")})`;
  if (shape.updated.length === 0) return `ON CONFLICT ${target} DO NOTHING`;
  const sets = shape.updated.map((name) => `${quoteIdentifier(name)} = EXCLUDED.${quoteIdentifier(name)}`);
  return `ON CONFLICT ${target} DO UPDATE SET ${sets.join(", ")}`;
}

/** Ends the connection politely, or destroys its socket when the server does not answer (a partition). */
export async function closeClient(client: pg.Client): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), CLOSE_GRACE_MS);
  });
  const ended = await Promise.race([client.end().catch(() => undefined), grace]);
  clearTimeout(timer);
  if (ended === "late")
    (client as unknown as { connection?: { stream?: Socket } }).connection?.stream?.destroy();
}
