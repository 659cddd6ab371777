import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { type FlowEvent, PermanentError, RetryableError } from "@flow/sdk";
import Database from "better-sqlite3";
import { EVENT_COLUMNS, type EventRow, eventRow } from "./event-row";

export interface EventTableOptions {
  path: string;
  table: string;
  busyTimeoutMs: number;
  createDirectories: boolean;
}

/** What PRAGMA synchronous reads when it is FULL. */
const SYNCHRONOUS_FULL = 2;

/** Identifiers are validated by the config schema; quoting still keeps keywords (e.g. "order") usable. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * The statement that creates the events table. `data` has no declared type, so SQLite keeps each
 * value as it is given: JSON and text as TEXT, other payloads as BLOB.
 */
export function createTableSql(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${quoteIdentifier(table)} (
  id TEXT PRIMARY KEY NOT NULL,
  source TEXT NOT NULL,
  type TEXT NOT NULL,
  subject TEXT,
  time TEXT,
  datacontenttype TEXT,
  dataschema TEXT,
  extensions TEXT,
  data
)`;
}

/** The columns an existing table lacks to hold events; empty when it has them all (or does not exist). */
export function missingColumns(db: Database.Database, table: string): string[] {
  const columns = db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as { name: string }[];
  if (columns.length === 0) return [];
  const present = new Set(columns.map((column) => column.name.toLowerCase()));
  return EVENT_COLUMNS.filter((name) => !present.has(name));
}

/**
 * One connection writing events to one table: one transaction per batch, and an insert that does
 * nothing when the id is already there, so a batch delivered again (at-least-once) adds no row.
 */
export class SqliteEventTable {
  private readonly insertBatch: (rows: EventRow[]) => number;

  private constructor(
    private readonly db: Database.Database,
    private readonly options: EventTableOptions,
  ) {
    const columns = EVENT_COLUMNS.join(", ");
    const values = EVENT_COLUMNS.map((name) => `@${name}`).join(", ");
    const insert = db.prepare(
      `INSERT INTO ${quoteIdentifier(options.table)} (${columns}) VALUES (${values}) ON CONFLICT(id) DO NOTHING`,
    );
    this.insertBatch = db.transaction((rows: EventRow[]) => {
      let inserted = 0;
      for (const row of rows) inserted += insert.run(row).changes;
      return inserted;
    });
  }

  static open(options: EventTableOptions): SqliteEventTable {
    if (options.createDirectories) mkdirSync(dirname(options.path), { recursive: true });
    const db = new Database(options.path, { timeout: options.busyTimeoutMs });
    try {
      const mode = db.pragma("journal_mode = WAL", { simple: true });
      if (String(mode).toLowerCase() !== "wal")
        throw new Error(`${options.path} cannot use WAL mode (journal_mode is ${mode})`);
      // In WAL mode only FULL syncs the WAL on each COMMIT (NORMAL waits for a checkpoint), and Core
      // commits checkpoints on the ack: https://www.sqlite.org/pragma.html#pragma_synchronous
      db.pragma("synchronous = FULL");
      const synchronous = db.pragma("synchronous", { simple: true });
      if (synchronous !== SYNCHRONOUS_FULL)
        throw new Error(`${options.path} does not keep synchronous = FULL (it reads ${synchronous})`);
      db.exec(createTableSql(options.table));
      const missing = missingColumns(db, options.table);
      if (missing.length > 0) {
        throw new Error(
          `table ${options.table} in ${options.path} has no column ${missing.join(", ")}; choose another table`,
        );
      }
      return new SqliteEventTable(db, options);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /** Writes a batch in one transaction whose COMMIT is on disk when this returns; returns how many events were new. */
  write(events: FlowEvent[]): number {
    let rows: EventRow[];
    try {
      rows = events.map(eventRow);
    } catch (error) {
      throw new PermanentError(`an event cannot be stored: ${(error as Error).message}`);
    }
    try {
      return this.insertBatch(rows);
    } catch (error) {
      throw classify(error, this.options.path);
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/**
 * A constraint or type failure is the data's fault and will fail again: permanent. Locks, a full
 * disk or I/O errors may clear up: retryable (the transaction rolled back, so a retry adds nothing twice).
 */
function classify(error: unknown, path: string): Error {
  const code = (error as { code?: unknown }).code;
  const message = `${path}: ${(error as Error).message}${typeof code === "string" ? ` (${code})` : ""}`;
  if (
    typeof code === "string" &&
    (code.startsWith("SQLITE_CONSTRAINT") || code === "SQLITE_MISMATCH" || code === "SQLITE_TOOBIG")
  ) {
    return new PermanentError(message);
  }
  if (error instanceof TypeError || error instanceof RangeError) return new PermanentError(message);
  if (code === "SQLITE_FULL") {
    return new RetryableError(
      `${message}: nothing of the batch was committed; free space on the disk that holds it, and the batch is retried`,
    );
  }
  return new RetryableError(message);
}
