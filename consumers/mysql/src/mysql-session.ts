import type { RowShape, SqlRow, SqlSession, SqlValue } from "@flow/sql-rows";
import mysql from "mysql2/promise";
import { insertStatements, type RowTuple } from "./insert-statements";
import { quotedTable, quoteIdentifier } from "./mysql-table";
import { answeredWithin } from "./statement-timeout";

export interface MysqlSessionOptions {
  url: string;
  table: string;
  shape: RowShape;
  /** True for the fixed event columns, whose RFC 3339 time becomes a DATETIME(6) literal. */
  fixedColumns: boolean;
  connectTimeoutMs: number;
  statementTimeoutMs: number;
  createTableSql?: string;
}

/**
 * Strict mode on every connection whatever the server's default: without it MariaDB/MySQL cut a
 * value that does not fit to what fits, with a warning, and the cut row would be answered WRITTEN.
 * UTC, so DATETIME values mean what the event's time says.
 */
const SESSION_SETUP =
  "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION', time_zone = '+00:00'";

/** No handshake from the server within the connect timeout (no errno: mysqlErrors reads it as retryable). */
export class ConnectTimeoutError extends Error {
  constructor(limit: string) {
    super(
      `no handshake from the server within ${limit}: it is unreachable, or too busy to answer (raise connectTimeoutMs if it is only slow)`,
    );
    this.name = "ConnectTimeoutError";
  }
}

/**
 * A connection that never crashes the process when the server goes away. mysql2's
 * connectTimeout bounds the TCP connect and the whole handshake (authentication included), then
 * destroys the socket; its error (`connect ETIMEDOUT`) becomes one naming `limit`, by default
 * `connectTimeoutMs (N ms)`.
 */
export async function mysqlConnection(
  url: string,
  options: { connectTimeoutMs: number; limit?: string },
): Promise<mysql.Connection> {
  let connection: mysql.Connection;
  try {
    connection = await mysql.createConnection({
      uri: url.replace(/^mariadb:/, "mysql:"),
      connectTimeout: options.connectTimeoutMs,
      charset: "utf8mb4",
      timezone: "Z",
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
      enableKeepAlive: true,
    });
  } catch (error) {
    // mysql2's own timer sets `code`, never the `errno` of a system error.
    const { code, errno } = error as { code?: unknown; errno?: unknown };
    if (code === "ETIMEDOUT" && errno === undefined) {
      throw new ConnectTimeoutError(options.limit ?? `connectTimeoutMs (${options.connectTimeoutMs} ms)`);
    }
    throw error;
  }
  // The failing query rejects by itself; the writer opens a new connection after it.
  connection.on("error", () => undefined);
  return connection;
}

/**
 * Closes the connection at once, its socket included. mysql2's destroy() (3.24.5) only ends the
 * socket (a FIN) and keeps it until the server ends its side: across a partition that never
 * comes, and the socket stayed open, half-closed, for good.
 */
export function dropConnection(connection: mysql.Connection): void {
  connection.destroy();
  // The socket is the core connection's `stream`, which mysql2's types do not declare.
  (
    connection as unknown as { connection?: { stream?: { destroy?: () => void } } }
  ).connection?.stream?.destroy?.();
}

/** The setting a statement's timeout names in its message. */
function statementLimit(timeoutMs: number): string {
  return `statementTimeoutMs (${timeoutMs} ms)`;
}

/**
 * Connects (within connectTimeoutMs) and sets the session up, each statement within
 * statementTimeoutMs as every later one: a server that goes silent right after the handshake
 * fails the batch as retryable instead of holding it for good.
 */
export async function openMysqlSession(options: MysqlSessionOptions): Promise<MysqlSession> {
  const connection = await mysqlConnection(options.url, options);
  const limit = statementLimit(options.statementTimeoutMs);
  // Named by its first two words in a timeout's message: `the session's setup (CREATE TABLE)`.
  const setup = (sql: string) =>
    answeredWithin(
      connection.query(sql),
      options.statementTimeoutMs,
      limit,
      `the session's setup (${sql.split(" ", 2).join(" ")})`,
    );
  try {
    await setup(SESSION_SETUP);
    if (options.createTableSql) await setup(options.createTableSql);
    const [[limits]] = (await setup("SELECT @@max_allowed_packet AS maxAllowedPacket")) as [
      { maxAllowedPacket: number | string }[],
      unknown,
    ];
    return new MysqlSession(connection, options, Number(limits?.maxAllowedPacket));
  } catch (error) {
    dropConnection(connection);
    throw error;
  }
}

/**
 * One connection writing batches to one table with `INSERT ... VALUES ... ON DUPLICATE KEY UPDATE`:
 * for onConflict nothing, an update of the key to itself, which changes nothing. Never `INSERT
 * IGNORE`: it turns every error of a row (a value too long, a NULL in a NOT NULL column) into a
 * warning and stores the row cut or zeroed. A batch is as many statements as the server's
 * max_allowed_packet needs (a batch may be 64 MiB, the server's default limit is 16 MiB), all in
 * the batch's one transaction.
 */
export class MysqlSession implements SqlSession {
  private readonly insertPrefix: string;
  private readonly insertSuffix: string;
  private readonly timeIndex: number;
  private broken: Error | undefined;

  constructor(
    private readonly connection: mysql.Connection,
    private readonly options: MysqlSessionOptions,
    /** The server's largest statement (read when the session opens). */
    private readonly maxAllowedPacket: number,
  ) {
    const { columns, key, updated } = options.shape;
    const sets = (updated.length > 0 ? updated : key.slice(0, 1)).map(
      (name) =>
        `${quoteIdentifier(name)} = ${updated.length > 0 ? `VALUES(${quoteIdentifier(name)})` : quoteIdentifier(name)}`,
    );
    this.insertPrefix = `INSERT INTO ${quotedTable(options.table)} (${columns.map(quoteIdentifier).join(", ")}) VALUES `;
    this.insertSuffix = ` ON DUPLICATE KEY UPDATE ${sets.join(", ")}`;
    this.timeIndex = options.fixedColumns ? columns.indexOf("time") : -1;
  }

  begin(): Promise<void> {
    return this.run("START TRANSACTION");
  }

  commit(): Promise<void> {
    return this.run("COMMIT");
  }

  rollback(): Promise<void> {
    return this.run("ROLLBACK");
  }

  async insertAll(rows: SqlRow[]): Promise<void> {
    for (const statement of this.statements(rows)) await this.run(statement);
  }

  /** InnoDB rolls back a failed statement alone and keeps the transaction: no savepoint needed. */
  async insertOne(row: SqlRow): Promise<void> {
    await this.insertAll([row]);
  }

  /** The INSERTs of `rows`, escaped as mysql2 escapes a query's values (the connection's settings). */
  private statements(rows: SqlRow[]): string[] {
    const tuples: RowTuple[] = rows.map((row) => ({
      eventId: row.eventId,
      sql: this.connection.format("?", [[this.values(row)]]),
    }));
    return insertStatements(this.insertPrefix, this.insertSuffix, tuples, this.maxAllowedPacket);
  }

  async close(): Promise<void> {
    // end() waits for the server's answer, which a partition never gives.
    dropConnection(this.connection);
  }

  private async run(sql: string, values?: unknown[]): Promise<void> {
    if (this.broken) throw this.broken;
    try {
      const limit = this.options.statementTimeoutMs;
      await answeredWithin(this.connection.query({ sql, values }), limit, statementLimit(limit));
    } catch (error) {
      // After a timeout the unanswered statement still holds the connection (mysql2 queues what
      // follows behind it), after a fatal error mysql2 answers nothing more: a ROLLBACK sent now
      // would wait forever. Fail fast; the writer opens a new connection.
      if (
        (error as { fatal?: unknown }).fatal === true ||
        typeof (error as { errno?: unknown }).errno !== "number"
      ) {
        this.broken = error as Error;
        dropConnection(this.connection);
      }
      throw error;
    }
  }

  private values(row: SqlRow): SqlValue[] {
    if (this.timeIndex < 0) return row.values;
    const values = [...row.values];
    const time = values[this.timeIndex];
    // RFC 3339 in UTC -> a DATETIME(6) literal, read in the session's UTC.
    if (typeof time === "string") values[this.timeIndex] = time.replace("T", " ").replace(/Z$/, "");
    return values;
  }
}
