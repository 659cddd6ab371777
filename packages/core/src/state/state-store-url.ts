import path from "node:path";
import { UserError } from "@flow/errors";

/** The embedded default: one SQLite file beside the pipeline (relative to the base directory). */
export const DEFAULT_STATE_STORE_URL = "sqlite:.flow/state.db";

/** Flow's tables live in their own PostgreSQL schema so they never mix with a user's tables. */
export const DEFAULT_POSTGRES_SCHEMA = "flow";

export const ACCEPTED_STATE_STORE_URLS =
  "sqlite:<path> (relative to the pipeline's folder, e.g. sqlite:.flow/state.db), sqlite::memory:, " +
  "or postgres://user@host:port/database[?schema=name] (postgresql:// too)";

export type StateStoreLocation =
  | { kind: "sqlite" /** Absolute path, or ":memory:". */; file: string }
  | {
      kind: "postgres";
      /** What node-postgres connects with (the URL minus Flow's own `schema` parameter). */
      connectionString: string;
      schema: string;
      host: string;
      port: number;
      /** The URL with its password masked, for messages. */
      display: string;
    };

/**
 * Reads a state store URL. `sqlite:` takes a path (an optional `//` after the colon is tolerated, so
 * `sqlite:///abs/state.db` is absolute); `postgres://` and `postgresql://` are node-postgres
 * connection strings plus an optional `schema` parameter.
 */
export function parseStateStoreUrl(url: string, baseDir: string): StateStoreLocation {
  const trimmed = url.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(trimmed)?.[1]?.toLowerCase();
  if (scheme === "sqlite") return parseSqliteUrl(trimmed, baseDir);
  if (scheme === "postgres" || scheme === "postgresql") return parsePostgresUrl(trimmed);
  throw new UserError(
    `unsupported state store URL "${maskPassword(trimmed)}"${scheme ? ` (scheme "${scheme}:")` : " (no scheme)"}`,
    { hint: `use ${ACCEPTED_STATE_STORE_URLS}` },
  );
}

function parseSqliteUrl(url: string, baseDir: string): StateStoreLocation {
  let rest = url.slice("sqlite:".length);
  if (rest.startsWith("//")) rest = rest.slice(2);
  if (rest === ":memory:") return { kind: "sqlite", file: ":memory:" };
  const relative = rest === "" ? DEFAULT_STATE_STORE_URL.slice("sqlite:".length) : rest;
  return { kind: "sqlite", file: path.resolve(baseDir, relative) };
}

function parsePostgresUrl(url: string): StateStoreLocation {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UserError(`state store URL "${maskPassword(url)}" is not a valid PostgreSQL URL`, {
      hint: "write it as postgres://user[:password]@host[:port]/database[?schema=name]",
    });
  }
  const schema = parsed.searchParams.get("schema") ?? DEFAULT_POSTGRES_SCHEMA;
  // The schema name is spliced into SQL as an identifier, so only plain lower-case names pass.
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new UserError(`state store URL "${maskPassword(url)}" names an invalid schema "${schema}"`, {
      hint: "use lower-case letters, digits and underscores, starting with a letter or underscore",
    });
  }
  parsed.searchParams.delete("schema");
  // A `host` parameter (a Unix socket folder, say) overrides the URL's host, as in node-postgres.
  const host = parsed.searchParams.get("host") ?? (decodeURIComponent(parsed.hostname) || "localhost");
  const port = parsed.port === "" ? 5432 : Number(parsed.port);
  return {
    kind: "postgres",
    connectionString: parsed.toString(),
    schema,
    host,
    port,
    display: maskPassword(url),
  };
}

/** Hides a URL's password so messages and logs never print it. */
export function maskPassword(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/?#@]*):[^@/?#]*@/i, "$1:***@");
}
