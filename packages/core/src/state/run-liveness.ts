import os from "node:os";
import { UserError } from "@flow/errors";
import type { RunRecord, StateStore } from "./state-store";

/** How often a running pipeline should save stats or heartbeat, so others can tell it is alive. */
export const RUN_HEARTBEAT_INTERVAL_MS = 5_000;

/** Silence after which a "running" run is presumed dead: several missed heartbeats, not one late one. */
export const RUN_STALE_AFTER_MS = 6 * RUN_HEARTBEAT_INTERVAL_MS;

export interface RunLivenessOptions {
  now?: Date;
  staleAfterMs?: number;
  /** The host this check runs on; a run of this host can be checked by its pid. */
  thisHost?: string;
  isProcessAlive?: (pid: number) => boolean;
}

/**
 * Whether a run marked "running" was left so by a process that died (SIGKILL, power cut): its
 * process is gone (checkable only on the same host) or it has not heartbeated for staleAfterMs
 * (which also covers other hosts and pids reused by another process).
 */
export function isRunAbandoned(run: RunRecord, options: RunLivenessOptions = {}): boolean {
  if (run.status !== "running") return false;
  const now = options.now ?? new Date();
  const staleAfterMs = options.staleAfterMs ?? RUN_STALE_AFTER_MS;
  if (now.getTime() - run.heartbeatAt.getTime() > staleAfterMs) return true;
  const thisHost = options.thisHost ?? os.hostname();
  const isAlive = options.isProcessAlive ?? isProcessAlive;
  return run.host === thisHost && !isAlive(run.pid);
}

/** Signal 0 checks that a process exists without touching it; EPERM means it exists under another user. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * The runs of `pipeline` that are running and not abandoned: another `flow run` of the same
 * pipeline would commit the same sources' checkpoints over theirs. A live run refuses later ones,
 * so a live run is always among the newest few.
 */
export async function liveRunsOf(
  store: Pick<StateStore, "listRuns">,
  pipeline: string,
  options: RunLivenessOptions = {},
): Promise<RunRecord[]> {
  const recent = await store.listRuns({ pipeline });
  return recent.filter((run) => run.status === "running" && !isRunAbandoned(run, options));
}

/**
 * Another run of the pipeline is live, so `action` is refused: which run, where, and what to do.
 * startRun throws it to the loser of a claim; commands that must not run beside a live run
 * (a checkpoint reset) throw it too.
 */
export class RunAlreadyLiveError extends UserError {
  constructor(
    /** The live run. */
    readonly run: RunRecord,
    action: string,
  ) {
    const staleSeconds = RUN_STALE_AFTER_MS / 1000;
    super(
      `cannot ${action}: pipeline "${run.pipeline}" is running (run ${run.runId}, pid ${run.pid} on ${run.host}, started ${run.startedAt.toISOString()})`,
      {
        hint: `stop that run first (Ctrl-C in its terminal, or kill -INT ${run.pid} on ${run.host}) and wait for it to drain; a run whose process died without a word counts as gone ${staleSeconds} s after its last heartbeat`,
      },
    );
    this.name = "RunAlreadyLiveError";
  }
}

/** The error for doing `action` while `run` is live. */
export function liveRunError(run: RunRecord, action: string): RunAlreadyLiveError {
  return new RunAlreadyLiveError(run, action);
}
