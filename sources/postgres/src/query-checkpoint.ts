import { PermanentError } from "@flow/sdk";

/**
 * A query-mode checkpoint: the cursor values (PostgreSQL's text of each cursor column) of the last
 * row emitted; the read resumes with the rows after them. The table and columns are kept to refuse
 * a checkpoint taken on another table.
 */
export interface QueryCheckpoint {
  kind: "postgres-query";
  table: string;
  cursorColumns: string[];
  cursor: string[];
}

export function encodeQueryCheckpoint(checkpoint: QueryCheckpoint): Buffer {
  return Buffer.from(JSON.stringify(checkpoint), "utf8");
}

/** The checkpoint to resume after, or undefined; fails for good when it is not this table's. */
export function resumedQueryCheckpoint(
  bytes: Buffer | undefined,
  table: string,
  cursorColumns: string[],
): QueryCheckpoint | undefined {
  if (bytes === undefined) return undefined;
  let value: Partial<QueryCheckpoint> | undefined;
  try {
    value = JSON.parse(bytes.toString("utf8")) as Partial<QueryCheckpoint>;
  } catch {}
  const fits =
    value?.kind === "postgres-query" &&
    value.table === table &&
    JSON.stringify(value.cursorColumns) === JSON.stringify(cursorColumns) &&
    Array.isArray(value.cursor) &&
    value.cursor.length === cursorColumns.length;
  if (!fits)
    throw new PermanentError(
      `the checkpoint is not one flow-source-postgres wrote for table ${table} by (${cursorColumns.join(", ")}); reset it (flow checkpoints reset) to read this table from the start`,
    );
  return value as QueryCheckpoint;
}
