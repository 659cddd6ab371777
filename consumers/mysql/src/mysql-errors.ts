import type { SqlErrorKind, SqlErrorReader } from "@flow/sql-rows";
import { RowTooLargeError } from "./insert-statements";

/**
 * Server errors that refuse one row's data but leave the SQLSTATE at HY000 or 01000, so the
 * SQLSTATE class alone (22 data, 23 constraint) does not find them
 * (https://mariadb.com/kb/en/mariadb-error-code-reference/).
 */
const ROW_ERRNOS = new Set([
  1048, // ER_BAD_NULL_ERROR
  1265, // WARN_DATA_TRUNCATED, an error in strict mode
  1292, // ER_TRUNCATED_WRONG_VALUE (an impossible date)
  1366, // ER_TRUNCATED_WRONG_VALUE_FOR_FIELD (text for an integer)
  1406, // ER_DATA_TOO_LONG
  1264, // ER_WARN_DATA_OUT_OF_RANGE
  3140, // ER_INVALID_JSON_TEXT (MySQL)
  4025, // ER_CONSTRAINT_FAILED (MariaDB's JSON columns are a json_valid CHECK)
]);

/**
 * MariaDB/MySQL errors (mysql2 gives errno, code, sqlState and fatal): a row's data (see above,
 * SQLSTATE classes 22 and 23, and a row over max_allowed_packet, found before it is sent); a statement that can never run (SQLSTATE 42: a missing table or
 * column, no privilege) is permanent; everything else (a fatal connection error, a timeout, a
 * deadlock, a lock wait, a shutdown, a full disk) is retryable.
 */
export const mysqlErrors: SqlErrorReader = {
  kind(error: unknown): SqlErrorKind {
    if (error instanceof RowTooLargeError) return "row";
    const { errno, sqlState, fatal } = error as { errno?: unknown; sqlState?: unknown; fatal?: unknown };
    if (fatal === true || typeof errno !== "number") return "retryable";
    const group = typeof sqlState === "string" ? sqlState.slice(0, 2) : "";
    if (ROW_ERRNOS.has(errno) || group === "22" || group === "23") return "row";
    if (group === "42") return "permanent";
    return "retryable";
  },
  describe(error: unknown): string {
    const { errno, code, sqlState } = error as { errno?: unknown; code?: unknown; sqlState?: unknown };
    const message = (error as Error)?.message || String(error);
    const codes = [typeof code === "string" ? code : "", typeof errno === "number" ? String(errno) : ""]
      .filter(Boolean)
      .join(" ");
    const state = typeof sqlState === "string" && typeof errno === "number" ? `, SQLSTATE ${sqlState}` : "";
    return codes ? `${message} [${codes}${state}]` : message;
  },
};
