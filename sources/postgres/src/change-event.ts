import { createEvent, type FlowEvent, timestampFromNanos } from "@flow/sdk";
import type { Pgoutput } from "pg-logical-replication";
import { columnValue } from "./column-value";
import { formatLsn, type Lsn } from "./lsn";

/** A change pgoutput streams: the messages that become events. */
export type ChangeMessage =
  | Pgoutput.MessageInsert
  | Pgoutput.MessageUpdate
  | Pgoutput.MessageDelete
  | Pgoutput.MessageTruncate;

export function isChange(message: Pgoutput.Message): message is ChangeMessage {
  return (
    message.tag === "insert" ||
    message.tag === "update" ||
    message.tag === "delete" ||
    message.tag === "truncate"
  );
}

/** The transaction a change belongs to, from its Begin message. */
export interface TransactionInfo {
  /** The position of its commit record (the same in Begin and Commit): with the ordinal, the event id. */
  commitLsn: Lsn;
  /** Microseconds since the Unix epoch. */
  commitTimeMicros: bigint;
}

export interface ChangeEventShape {
  slot: string;
  database: string;
  source?: string;
}

/** A row of a change as JSON values, column by column; an unchanged TOASTed value is left out. */
function rowJson(
  relation: Pgoutput.MessageRelation,
  tuple: Record<string, unknown> | null,
): Record<string, unknown> | null {
  if (tuple === null) return null;
  const row: Record<string, unknown> = {};
  for (const column of relation.columns) {
    if (!(column.name in tuple)) continue;
    const text = tuple[column.name];
    if (text === undefined) continue;
    row[column.name] = columnValue(column.typeOid, text as string | null);
  }
  return row;
}

/** The payload of a change, and the table(s) it is of. */
function changeData(change: ChangeMessage): { table: string; data: Record<string, unknown> } {
  if (change.tag === "truncate") {
    const tables = change.relations.map((relation) => `${relation.schema}.${relation.name}`);
    return {
      table: tables.join(","),
      data: { op: "truncate", tables, cascade: change.cascade, restartIdentity: change.restartIdentity },
    };
  }
  const { relation } = change;
  const newRow = change.tag === "delete" ? null : rowJson(relation, change.new);
  // With REPLICA IDENTITY FULL the whole old row; by default only its key (for an update: when
  // the key changed, else nothing).
  const oldRow = change.tag === "insert" ? null : rowJson(relation, change.old ?? change.key);
  return {
    table: `${relation.schema}.${relation.name}`,
    data: { op: change.tag, schema: relation.schema, table: relation.name, new: newRow, old: oldRow },
  };
}

/**
 * The event of one change: id `<slot>@<commit LSN>#<n>` (n counts the transaction's changes from
 * 0), the same each time the slot streams that transaction again; type `postgres.<op>`; time the
 * commit's; the payload `{op, schema, table, new, old}` (a truncate: `{op, tables, cascade,
 * restartIdentity}`, one event for the tables truncated together).
 */
export function changeEvent(
  change: ChangeMessage,
  transaction: TransactionInfo,
  ordinal: number,
  changeLsn: Lsn,
  shape: ChangeEventShape,
): FlowEvent {
  const { table, data } = changeData(change);
  const commitLsn = formatLsn(transaction.commitLsn);
  return createEvent({
    id: `${shape.slot}@${commitLsn}#${ordinal}`,
    source: shape.source ?? `/postgres/${shape.database}/${table}`,
    type: `postgres.${change.tag}`,
    time: timestampFromNanos(transaction.commitTimeMicros * 1000n),
    extensions: {
      pgop: { value: { $case: "stringValue", value: change.tag } },
      pgtable: { value: { $case: "stringValue", value: table } },
      pglsn: { value: { $case: "stringValue", value: commitLsn } },
      pgchangelsn: { value: { $case: "stringValue", value: formatLsn(changeLsn) } },
      pgseq: { value: { $case: "integerValue", value: ordinal } },
    },
    data,
  });
}
