import { UserError } from "@flow/errors";

/** Errors of the socket underneath: nothing answered at the address. */
const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOENT",
]);

export interface PostgresEndpoint {
  host: string;
  port: number;
  /** The URL with its password masked. */
  display: string;
}

/**
 * Turns a failure to open the PostgreSQL store into a UserError when the user can fix it (server
 * down, wrong address, login refused, missing database or rights); anything else is returned as is.
 */
export function explainPostgresOpenError(error: unknown, endpoint: PostgresEndpoint): unknown {
  const code = errorCode(error);
  const reason = error instanceof Error && error.message ? error.message : String(code ?? error);
  const where = `${endpoint.host}:${endpoint.port}`;
  if ((code && UNREACHABLE_CODES.has(code)) || /timeout|timed out/i.test(reason)) {
    return new UserError(`cannot reach the PostgreSQL state store at ${where} (${code ?? reason})`, {
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
  return error;
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") return code;
  // Node reports a host with several addresses (localhost: ::1 and 127.0.0.1) as an AggregateError.
  if (error instanceof AggregateError) return error.errors.map(errorCode).find((c) => c !== undefined);
  return undefined;
}
