import type { RefusedEvent, SqlRow } from "./event-rows";

/**
 * How a database error bears on a batch:
 * - `row`: the data of one row is refused (a value that does not fit its column, a constraint):
 *   the same row will always fail, the others of the batch need not;
 * - `retryable`: the connection, the server or a lock (nothing is known to be committed);
 * - `permanent`: the statement itself can never run (a missing table or column, no privilege).
 */
export type SqlErrorKind = "row" | "retryable" | "permanent";

/** One connection of a SQL consumer, as the batch transaction uses it. */
export interface SqlSession {
  begin(): Promise<void>;
  /** Resolves once the server has committed (durably, as its settings make COMMIT durable). */
  commit(): Promise<void>;
  rollback(): Promise<void>;
  /** Inserts every row (in as few statements as it can), each key collision as onConflict says. */
  insertAll(rows: SqlRow[]): Promise<void>;
  /** Inserts one row so that its failure leaves the transaction usable (a savepoint where needed). */
  insertOne(row: SqlRow): Promise<void>;
  close(): Promise<void>;
}

/** What a SQL consumer's database says of its errors. */
export interface SqlErrorReader {
  kind(error: unknown): SqlErrorKind;
  /** The server's reason in one line, with its code (SQLSTATE, errno). */
  describe(error: unknown): string;
}

/** The outcome of a batch's transaction that did not end committed. */
export class BatchNotCommitted extends Error {
  constructor(
    readonly kind: Exclude<SqlErrorKind, "row">,
    message: string,
  ) {
    super(message);
    this.name = "BatchNotCommitted";
  }
}

/**
 * Writes a batch in one transaction and resolves only after its COMMIT succeeded. When the server
 * refuses some row's data, the transaction is rolled back and the batch written again one row at
 * a time in a second transaction that leaves out the refused rows; their reasons are returned. A
 * failure of the connection or of a COMMIT throws BatchNotCommitted: the batch is then not known
 * to be stored, and a retry adds no duplicate because rows collide on their key.
 */
export async function commitBatch(
  session: SqlSession,
  rows: SqlRow[],
  errors: SqlErrorReader,
): Promise<RefusedEvent[]> {
  try {
    await session.begin();
    await session.insertAll(rows);
    await session.commit();
    return [];
  } catch (error) {
    await session.rollback().catch(() => undefined);
    const kind = errors.kind(error);
    if (kind !== "row") throw new BatchNotCommitted(kind, errors.describe(error));
  }
  const refused: RefusedEvent[] = [];
  try {
    await session.begin();
    for (const row of rows) {
      try {
        await session.insertOne(row);
      } catch (error) {
        if (errors.kind(error) !== "row") throw error;
        refused.push({ eventId: row.eventId, reason: errors.describe(error) });
      }
    }
    await session.commit();
  } catch (error) {
    await session.rollback().catch(() => undefined);
    // A row error now comes from COMMIT (a deferred constraint): no row can be singled out.
    const kind = errors.kind(error);
    throw new BatchNotCommitted(kind === "row" ? "permanent" : kind, errors.describe(error));
  }
  return refused;
}
