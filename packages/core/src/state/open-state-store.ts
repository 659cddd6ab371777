import { PostgresStateStore } from "./postgres-state-store";
import { SqliteStateStore } from "./sqlite-state-store";
import type { Clock, StateStore } from "./state-store";
import { DEFAULT_STATE_STORE_URL, parseStateStoreUrl } from "./state-store-url";

export interface OpenStateStoreOptions {
  /** What a relative `sqlite:` path is relative to: the pipeline file's folder, typically. */
  baseDir: string;
  /** Where timestamps and expiry come from; tests inject one to move time without sleeping. */
  clock?: Clock;
  /** PostgreSQL only: how long to wait for a connection before calling the server unreachable. */
  connectTimeoutMs?: number;
  /** PostgreSQL only: how long one query may go unanswered before it fails as unavailable (default 15 s). */
  queryTimeoutMs?: number;
}

/**
 * Opens the state store a URL names, creating what is missing (folders, file, schema, tables):
 * `sqlite:<path>` (the default, DEFAULT_STATE_STORE_URL) or `postgres://...` / `postgresql://...`.
 * Throws a UserError for an unsupported URL, a path that is no place for a store, a damaged store
 * (DamagedStoreError) or a database that can't be reached (StoreUnavailableError) or used.
 */
export async function openStateStore(
  url: string | undefined,
  options: OpenStateStoreOptions,
): Promise<StateStore> {
  const location = parseStateStoreUrl(url ?? DEFAULT_STATE_STORE_URL, options.baseDir);
  if (location.kind === "sqlite") return SqliteStateStore.open(location.file, options.clock);
  return PostgresStateStore.open({
    ...location,
    clock: options.clock,
    connectTimeoutMs: options.connectTimeoutMs,
    queryTimeoutMs: options.queryTimeoutMs,
  });
}
