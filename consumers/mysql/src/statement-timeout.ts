/** A statement the server did not answer in time (no errno: mysqlErrors reads it as retryable). */
export class StatementTimeoutError extends Error {
  constructor(limit: string, statement = "a statement") {
    super(
      `no answer to ${statement} within ${limit}, the connection is dropped: the server is unreachable or the statement waits (e.g. for a lock)`,
    );
    this.name = "StatementTimeoutError";
  }
}

/**
 * The statement's answer, or a StatementTimeoutError after `timeoutMs` (`limit` names it for the
 * message, e.g. `statementTimeoutMs (30000 ms)`, and `what` the statement, by default `a
 * statement`); the timer is cleared however the statement ends. The caller drops the connection
 * after a timeout.
 *
 * Not mysql2's own `timeout` query option: mysql2 (3.24.5) clears that timer on an answer or an
 * error packet, but not when the connection dies under the query (a KILL, a reset, the server
 * going away: lib/base/connection.js `_notifyError` hands the error to the running query and
 * forgets it, its timer still set). Each lost connection then left a timer of the full timeout
 * holding the query, its SQL (up to max_allowed_packet) and the connection, kept the process from
 * exiting, and called the query back a second time when it fired. The same kind of leak on other
 * paths: https://github.com/sidorares/node-mysql2/issues/1387 (fixed for error packets by
 * https://github.com/sidorares/node-mysql2/pull/1390) and
 * https://github.com/sidorares/node-mysql2/issues/1414 (a pool).
 */
export function answeredWithin<T>(
  statement: Promise<T>,
  timeoutMs: number,
  limit: string,
  what?: string,
): Promise<T> {
  // After a timeout the connection is dropped: a late answer or error of the statement is of no use.
  statement.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StatementTimeoutError(limit, what)), timeoutMs);
  });
  return Promise.race([statement, timedOut]).finally(() => clearTimeout(timer));
}
