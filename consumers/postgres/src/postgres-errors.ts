import type { SqlErrorKind, SqlErrorReader } from "@flow/sql-rows";

/**
 * PostgreSQL errors by SQLSTATE class (https://www.postgresql.org/docs/current/errcodes-appendix.html):
 * data exceptions (22) and constraint violations (23) are the row's; a cardinality violation (21)
 * is too (one statement touching a key twice). Connection (08), resources (53), operator
 * intervention (57, e.g. an admin shutdown), system (58), rollbacks (40: deadlock, serialization),
 * locks and objects in use (55) and an error without a SQLSTATE (a socket error, a timeout) are
 * retryable. Syntax and access rules (42: a missing table or column, no privilege) and feature
 * limits (0A) will fail the same way again: permanent.
 */
export const postgresErrors: SqlErrorReader = {
  kind(error: unknown): SqlErrorKind {
    const code = sqlState(error);
    if (code === undefined) return "retryable";
    const group = code.slice(0, 2);
    if (group === "21" || group === "22" || group === "23") return "row";
    if (group === "42" || group === "0A" || group === "2B" || group === "44") return "permanent";
    return "retryable";
  },
  describe(error: unknown): string {
    const message = (error as Error)?.message || String(error);
    const code = sqlState(error);
    const detail = (error as { detail?: unknown }).detail;
    return `${message}${typeof detail === "string" && detail ? ` (${detail})` : ""}${code ? ` [SQLSTATE ${code}]` : ""}`;
  },
};

function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown })?.code;
  // Node socket errors (EPIPE, ECONNRESET) are no SQLSTATE; no SQLSTATE class begins with E.
  return typeof code === "string" && /^[0-9A-DF-Z][0-9A-Z]{4}$/.test(code) ? code : undefined;
}
