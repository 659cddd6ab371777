import {
  type CheckpointCommit,
  DEFAULT_RUN_LIST_LIMIT,
  DEFAULT_SERVICE_TTL_SECONDS,
  type ListRunsQuery,
  type StageStats,
} from "./state-store";

// Checks shared by both stores, so a bad call fails the same way whichever store is configured.
// These are programming errors of the caller (the orchestrator, the registry service), not user
// errors, so they are plain RangeErrors with a stack.

function requireCount(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${what} must be a non-negative integer, got ${value}`);
  }
}

function requireText(value: string, what: string): void {
  if (typeof value !== "string" || value === "") throw new RangeError(`${what} must be a non-empty string`);
}

export function checkCheckpointCommit(commit: CheckpointCommit): void {
  requireText(commit.pipeline, "checkpoint pipeline");
  requireText(commit.sourceId, "checkpoint source id");
  requireText(commit.runId, "checkpoint run id");
  requireCount(commit.sequence, "checkpoint sequence");
  if (!(commit.position instanceof Uint8Array)) throw new RangeError("checkpoint position must be bytes");
}

export function checkStageStats(stages: readonly StageStats[]): void {
  for (const stage of stages) {
    requireText(stage.stageId, "stage id");
    const where = `stage "${stage.stageId}"`;
    requireCount(stage.eventsIn, `${where} eventsIn`);
    requireCount(stage.eventsOut, `${where} eventsOut`);
    requireCount(stage.deadLetters, `${where} deadLetters`);
    requireCount(stage.restarts, `${where} restarts`);
    requireCount(stage.errors, `${where} errors`);
    if (
      stage.contractMajor !== undefined &&
      (!Number.isSafeInteger(stage.contractMajor) || stage.contractMajor < 1)
    )
      throw new RangeError(`${where} contractMajor must be a whole number >= 1, got ${stage.contractMajor}`);
  }
}

export function runListLimit(query: ListRunsQuery): number {
  const limit = query.limit ?? DEFAULT_RUN_LIST_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1)
    throw new RangeError(`run list limit must be >= 1, got ${limit}`);
  return limit;
}

/** The TTL a registration gets: 0 or absent means the default, as in the registry contract. */
export function grantedTtlSeconds(ttlSeconds: number | undefined): number {
  if (ttlSeconds === undefined || ttlSeconds === 0) return DEFAULT_SERVICE_TTL_SECONDS;
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < 0) {
    throw new RangeError(`service TTL must be a non-negative integer number of seconds, got ${ttlSeconds}`);
  }
  return ttlSeconds;
}

/** Bytes as a Buffer without copying, which both database drivers accept. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
