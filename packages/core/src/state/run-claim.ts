import { isRunAbandoned, RUN_STALE_AFTER_MS } from "./run-liveness";
import type { RunRecord, RunStatus } from "./state-store";
import { ClaimLostError } from "./store-errors";

/**
 * What a new run finds when it claims a pipeline, inside the claim's transaction: the running runs
 * whose process is gone or silent (closed as failed in the same transaction, so a dead run never
 * blocks), and the live one that wins over the newcomer, if any. Both stores call this, so they
 * judge liveness the same way.
 */
export function judgeRunningRuns(
  running: readonly RunRecord[],
  now: Date,
): { abandoned: RunRecord[]; live: RunRecord | undefined } {
  const abandoned = running.filter((run) => isRunAbandoned(run, { now }));
  const live = running.find((run) => !abandoned.includes(run));
  return { abandoned, live };
}

/** The error recorded on a run a newcomer took the pipeline from: why it counted as dead, and who took over. */
export function abandonedRunReason(run: RunRecord, now: Date, newRunId: string): string {
  const silentMs = now.getTime() - run.heartbeatAt.getTime();
  const why =
    silentMs > RUN_STALE_AFTER_MS
      ? `no heartbeat for ${Math.round(silentMs / 1000)} s`
      : `process ${run.pid} on ${run.host} is gone`;
  return `abandoned: ${why}; run ${newRunId} took the pipeline over`;
}

/** The claim columns of a run row, as both stores read them when a run writes. */
export interface RunClaimRow {
  pipeline: string;
  status: RunStatus;
  superseded_by: string | null;
}

/**
 * Why the run `runId` may not write `pipeline`'s checkpoints (or its own run record), if it may
 * not: it is unknown, of another pipeline, taken over, or ended. Undefined while it holds the claim.
 */
export function claimLost(
  runId: string,
  pipeline: string,
  claim: RunClaimRow | undefined,
): ClaimLostError | undefined {
  if (!claim) return new ClaimLostError(runId, pipeline, undefined, "there is no such run");
  if (claim.pipeline !== pipeline) {
    return new ClaimLostError(runId, pipeline, undefined, `it is a run of pipeline "${claim.pipeline}"`);
  }
  if (claim.superseded_by) {
    return new ClaimLostError(
      runId,
      pipeline,
      claim.superseded_by,
      `run ${claim.superseded_by} took the pipeline over because this run looked abandoned (no heartbeat, or its process gone)`,
    );
  }
  if (claim.status !== "running") {
    return new ClaimLostError(
      runId,
      pipeline,
      undefined,
      `the run already ended with status "${claim.status}"`,
    );
  }
  return undefined;
}
