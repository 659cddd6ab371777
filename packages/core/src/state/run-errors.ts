import type { RunRecord } from "./state-store";

// Misuse of a run id is a bug in the caller (the orchestrator), not something a user can fix, so
// these are plain Errors that keep their stack.

export function unknownRun(runId: string): Error {
  return new Error(`unknown run id "${runId}"`);
}

/** Why finishRun changed nothing: an unknown id, or a run that already ended. */
export function finishRefused(runId: string, run: Pick<RunRecord, "status"> | undefined): Error {
  if (!run) return unknownRun(runId);
  return new Error(`run "${runId}" already ended with status "${run.status}"`);
}
