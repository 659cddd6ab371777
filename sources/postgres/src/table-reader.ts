import { createEvent, type FlowEvent, PermanentError } from "@flow/sdk";
import pg from "pg";
import { columnValue } from "./column-value";
import { connectPostgres, TEXT_VALUES } from "./postgres-client";

/** A table as the server resolved the name a configuration gives. */
export interface ResolvedTable {
  /** Schema-qualified, quoted only where needed: what the SQL uses and the checkpoint records. */
  name: string;
  schema: string;
  table: string;
  /** The configured cursor columns the table lacks. */
  missingColumns: string[];
}

/** Resolves `table` (as SQL names it, by the session's search_path); undefined when there is none. */
export async function resolveTable(
  client: pg.Client,
  table: string,
  cursorColumns: string[],
): Promise<ResolvedTable | undefined> {
  const found = await client.query<{ name: string; schema: string; table: string; columns: string[] }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS name, n.nspname AS schema, c.relname AS table,
            array(SELECT attname::text FROM pg_attribute WHERE attrelid = c.oid AND attnum > 0 AND NOT attisdropped) AS columns
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.oid = to_regclass($1)`,
    [table],
  );
  const row = found.rows[0];
  if (!row) return undefined;
  return {
    name: row.name,
    schema: row.schema,
    table: row.table,
    missingColumns: cursorColumns.filter((column) => !row.columns.includes(column)),
  };
}

/** A row read, as the event it becomes and the cursor values that resume after it. */
export interface TableRow {
  event: FlowEvent;
  cursor: string[];
}

/**
 * Reads a table page by page in the order of its cursor columns, by keyset: each page is the rows
 * after the last one's cursor values, `WHERE (c1, c2) > ($1, $2) ORDER BY c1, c2 LIMIT n`. An
 * index on the cursor columns makes each page an index range scan, however far into the table.
 */
export class TableReader {
  private constructor(
    private readonly client: pg.Client,
    readonly table: ResolvedTable,
    private readonly cursorColumns: string[],
    private readonly source: string,
  ) {}

  static async open(options: {
    url: string;
    table: string;
    cursorColumns: string[];
    source: (table: ResolvedTable) => string;
  }): Promise<TableReader> {
    const client = await connectPostgres(options.url, { applicationName: "flow-source-postgres" });
    try {
      const table = await resolveTable(client, options.table, options.cursorColumns);
      if (!table) throw new PermanentError(`table ${options.table} does not exist`);
      if (table.missingColumns.length > 0)
        throw new PermanentError(
          `table ${table.name} has no column ${table.missingColumns.join(", ")} (cursorColumns)`,
        );
      return new TableReader(client, table, options.cursorColumns, options.source(table));
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
  }

  /** Up to `limit` rows after `after` (from the first row when undefined), in cursor order. */
  async page(after: string[] | undefined, limit: number): Promise<TableRow[]> {
    const columns = this.cursorColumns.map((column) => pg.escapeIdentifier(column));
    const keyset = `(${columns.join(", ")})`;
    const values: unknown[] = after ? [...after, limit] : [limit];
    // A row with NULL in a cursor column has no place in the order: it is never read.
    const after_ = after ? ` AND ${keyset} > (${after.map((_, index) => `$${index + 1}`).join(", ")})` : "";
    const where = `WHERE ${keyset} IS NOT NULL${after_}`;
    const result = await this.client.query<unknown[]>({
      text: `SELECT * FROM ${this.table.name} ${where} ORDER BY ${columns.join(", ")} LIMIT $${values.length}`,
      values,
      rowMode: "array",
      types: TEXT_VALUES,
    });
    const names = result.fields.map((field) => field.name);
    const cursorIndexes = this.cursorColumns.map((column) => names.indexOf(column));
    return result.rows.map((values) => {
      const cursor = cursorIndexes.map((index) => values[index] as string);
      const data: Record<string, unknown> = {};
      result.fields.forEach((field, index) => {
        data[field.name] = columnValue(field.dataTypeID, values[index] as string | null);
      });
      return {
        cursor,
        event: createEvent({
          // The same row version always has the same cursor values, so a replay has the same id.
          id: `${this.table.name}${JSON.stringify(cursor)}`,
          source: this.source,
          type: "postgres.row",
          data,
        }),
      };
    });
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }
}
