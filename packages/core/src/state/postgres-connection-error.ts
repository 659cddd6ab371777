import { UserError } from "@flow/errors";
import {
  DamagedStoreError,
  damagedStoreHint,
  type StoreOperation,
  StoreUnavailableError,
  storeOperationError,
} from "./store-errors";

/** Errors of the socket underneath: nothing answered at the address, or the connection broke. */
const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOENT",
]);

/**
 * SQLSTATEs that mean "not now" rather than "wrong": class 08 (connection exception) is matched by
 * prefix; these are the server shutting down or starting, too many connections, a statement or
 * lock timeout.
 */
const UNAVAILABLE_SQLSTATES = new Set(["57P01", "57P02", "57P03", "53300", "57014", "55P03"]);

/** node-postgres's own words for a connection that broke or never answered. */
const BROKEN_CONNECTION =
  /Connection terminated|Query read timeout|timeout exceeded when trying to connect|Connection ended|not queryable|connection timeout/i;

export interface PostgresEndpoint {
  host: string;
  port: number;
  /** The URL with its password masked. */
  display: string;
}

/** Why the server could not be used just now, when that is the reason `error` happened. */
export function unavailabilityOf(error: unknown): string | undefined {
  const code = errorCode(error);
  const message = messageOf(error);
  if (code && UNREACHABLE_CODES.has(code)) return `${describeSocketCode(code)} (${code})`;
  if (code && (code.startsWith("08") || UNAVAILABLE_SQLSTATES.has(code)))
    return `${message} (SQLSTATE ${code})`;
  if (BROKEN_CONNECTION.test(message)) return message;
  return undefined;
}

/**
 * Turns an error of a store operation into the store error the engine and a user can act on:
 * StoreUnavailableError when the server is unreachable (retry later), DamagedStoreError for a
 * missing table or column, StoreWriteError / StoreReadError for what the server refused. Errors
 * that are not the database's (a caller's bug, a UserError already) are returned unchanged.
 */
export function explainPostgresFailure(error: unknown, location: string, operation: StoreOperation): unknown {
  if (error instanceof UserError) return error;
  const unavailable = unavailabilityOf(error);
  if (unavailable) return new StoreUnavailableError(location, unavailable, error);
  const code = errorCode(error);
  if (!code || !/^[0-9A-Z]{5}$/.test(code)) return error;
  const message = messageOf(error);
  if (code === "42P01" || code === "42703") {
    return new DamagedStoreError(
      location,
      [`${message} (SQLSTATE ${code})`],
      damagedStoreHint("postgres", location),
    );
  }
  const reason =
    code === "53100"
      ? `the database server's disk is full (SQLSTATE ${code})`
      : `${message} (SQLSTATE ${code})`;
  const hint =
    code === "53100"
      ? "free disk space on the PostgreSQL server, then run again; the store keeps what it held before"
      : "check the PostgreSQL server's log for this error";
  return storeOperationError(location, operation, reason, hint, error);
}

/**
 * Turns a failure to open the PostgreSQL store into a UserError when the user can fix it (server
 * down, wrong address, login refused, missing database or rights); an unreachable server is a
 * StoreUnavailableError, so a caller can wait and retry.
 */
export function explainPostgresOpenError(error: unknown, endpoint: PostgresEndpoint): unknown {
  const code = errorCode(error);
  const reason = messageOf(error) || String(code ?? error);
  const where = `${endpoint.host}:${endpoint.port}`;
  if (unavailabilityOf(error) || /timeout|timed out/i.test(reason)) {
    return new StoreUnavailableError(endpoint.display, code ?? reason, error, {
      message: `cannot reach the PostgreSQL state store at ${where} (${code ?? reason})`,
      hint: `start PostgreSQL there or fix the host and port in the state store URL ${endpoint.display}`,
    });
  }
  if (code === "28P01" || code === "28000") {
    return new UserError(`PostgreSQL at ${where} refused the login: ${reason}`, {
      hint: `check the user and password in the state store URL ${endpoint.display}`,
    });
  }
  if (code === "3D000") {
    return new UserError(`PostgreSQL at ${where}: ${reason}`, {
      hint: "create the database (createdb <name>) or name an existing one in the state store URL",
    });
  }
  if (code === "42501") {
    return new UserError(`PostgreSQL at ${where} denied Flow's state schema: ${reason}`, {
      hint: "grant the user CREATE on the database, or create the schema for it (the URL's ?schema=, default flow)",
    });
  }
  return explainPostgresFailure(error, endpoint.display, { kind: "write", what: "open the store" });
}

function describeSocketCode(code: string): string {
  if (code === "ECONNREFUSED") return "connection refused";
  if (code === "ECONNRESET" || code === "EPIPE" || code === "ECONNABORTED") return "connection reset";
  if (code === "ETIMEDOUT") return "connection timed out";
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return "host name does not resolve";
  return "unreachable";
}

/** The error's message; read by shape, as errors of Node's own sockets may come from another realm (jest). */
function messageOf(error: unknown): string {
  const message =
    typeof error === "object" && error !== null ? (error as { message?: unknown }).message : undefined;
  return typeof message === "string" ? message : "";
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") return code;
  // Node reports a host with several addresses (localhost: ::1 and 127.0.0.1) as an AggregateError.
  if (error instanceof AggregateError) return error.errors.map(errorCode).find((c) => c !== undefined);
  return undefined;
}
