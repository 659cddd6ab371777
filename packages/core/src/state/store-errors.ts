import { UserError } from "@flow/errors";

// What a store operation can fail with, as types the engine tells apart with instanceof: all are
// UserErrors (one line, a hint, no stack), and each keeps the driver's error as `cause`.

/**
 * The store cannot be reached now (server down, network cut, a query timed out, the SQLite file
 * locked by another process beyond the busy timeout). Nothing was written; the same call can
 * succeed later, and the store reconnects by itself on the next call.
 */
export class StoreUnavailableError extends UserError {
  constructor(
    readonly location: string,
    /** What went wrong, e.g. "connection reset (ECONNRESET)". */
    readonly reason: string,
    cause: unknown,
    /** Replaces the message and hint (opening a store words them as "cannot reach ..."). */
    text?: { message: string; hint: string },
  ) {
    super(text?.message ?? `the state store at ${location} is unavailable: ${reason}`, {
      hint:
        text?.hint ??
        "Flow retries until it answers; check that the database server is up and reachable from this host",
    });
    this.name = "StoreUnavailableError";
    this.cause = cause;
  }
}

/** What a failed store call was doing. */
export interface StoreOperation {
  kind: "read" | "write";
  /** Completes "could not …", e.g. "commit the checkpoint of orders/file". */
  what: string;
}

/** A call the store refused or could not carry out; StoreWriteError or StoreReadError says which kind. */
export abstract class StoreOperationError extends UserError {
  constructor(
    readonly location: string,
    readonly operation: StoreOperation,
    /** Why it failed, e.g. "disk full (SQLITE_FULL)". */
    readonly reason: string,
    hint: string,
    cause: unknown,
  ) {
    super(
      operation.kind === "write"
        ? `could not ${operation.what} in the state store at ${location}: ${reason}; nothing was written`
        : `could not ${operation.what} from the state store at ${location}: ${reason}`,
      { hint },
    );
    this.cause = cause;
  }
}

/** A write the store refused or could not make durable (disk full, I/O error, read-only file). Nothing was written. */
export class StoreWriteError extends StoreOperationError {
  override readonly name = "StoreWriteError";
}

/** A read the store could not answer (I/O error, a damaged file). */
export class StoreReadError extends StoreOperationError {
  override readonly name = "StoreReadError";
}

/** The error for a failed `operation`: a StoreWriteError for a write, a StoreReadError for a read. */
export function storeOperationError(
  location: string,
  operation: StoreOperation,
  reason: string,
  hint: string,
  cause: unknown,
): StoreOperationError {
  const Type = operation.kind === "write" ? StoreWriteError : StoreReadError;
  return new Type(location, operation, reason, hint, cause);
}

/** The store exists but is not a usable Flow state store: truncated, tables or columns missing. */
export class DamagedStoreError extends UserError {
  constructor(
    readonly location: string,
    /** What is wrong, e.g. ["table runs is missing"]. */
    readonly problems: readonly string[],
    hint: string,
  ) {
    super(`the state store at ${location} is damaged: ${problems.join("; ")}`, { hint });
    this.name = "DamagedStoreError";
  }
}

/** The hint for a damaged store, whichever kind. */
export function damagedStoreHint(kind: "sqlite" | "postgres", location: string): string {
  if (kind === "sqlite") {
    return `restore ${location} from a backup; or move it away (mv ${location} ${location}.damaged) and run again to start a new, empty store (every source then starts from its beginning)`;
  }
  return "restore the schema from a backup; or drop it (DROP SCHEMA <name> CASCADE) or point ?schema= at a new one to start a new, empty store (every source then starts from its beginning)";
}

/**
 * A run that no longer holds its pipeline's claim tried to write: another run took the pipeline
 * over (this one had stopped heartbeating or its process looked dead), or the run already ended,
 * or the id is unknown. Nothing was written: a fenced-out run can never move a checkpoint.
 */
export class ClaimLostError extends UserError {
  constructor(
    readonly runId: string,
    readonly pipeline: string,
    /** The run that took the pipeline over, when one did. */
    readonly supersededBy: string | undefined,
    /** Why, e.g. 'run ... took the pipeline over' or 'the run ended with status "stopped"'. */
    readonly reason: string,
  ) {
    super(`run ${runId} no longer holds pipeline "${pipeline}": ${reason}; nothing was written`, {
      hint: supersededBy
        ? `run ${supersededBy} continues from the last checkpoint this run committed; stop this process (its work since then is redone by the new run)`
        : "start the pipeline again with flow run",
    });
    this.name = "ClaimLostError";
  }
}
