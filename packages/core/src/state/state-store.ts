/**
 * The state Flow Core keeps between and during runs: source checkpoints, run history and the
 * control plane's service registry. One interface, two stores (SQLite, PostgreSQL) chosen by URL
 * with `openStateStore`; the same contract tests run against both.
 */

/** A JSON value, as stored for a registered service's component descriptor. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Where the time comes from; tests inject their own to move time forward without sleeping. */
export type Clock = () => Date;

export type StateStoreKind = "sqlite" | "postgres";

/** A checkpoint a run asks to make durable for one source stage of a pipeline. */
export interface CheckpointCommit {
  pipeline: string;
  sourceId: string;
  /** The source's own encoding of its position; stored and handed back unchanged. */
  position: Uint8Array;
  /** Human-readable position, for `flow checkpoints list`. */
  description: string;
  runId: string;
  /**
   * Sequence number of the batch the checkpoint came with. Within one run a commit only replaces a
   * checkpoint with a lower sequence, so a late or duplicated commit can never move a source back.
   */
  sequence: number;
}

export interface StoredCheckpoint {
  pipeline: string;
  sourceId: string;
  position: Uint8Array;
  description: string;
  /** The run that committed it. */
  runId: string;
  sequence: number;
  committedAt: Date;
}

export interface CheckpointCommitResult {
  /** False when the store already held a checkpoint of the same run with an equal or higher sequence. */
  committed: boolean;
  /** What the store holds after the call. */
  checkpoint: StoredCheckpoint;
}

export type RunStatus = "running" | "succeeded" | "failed" | "stopped";
export type FinishedRunStatus = Exclude<RunStatus, "running">;

/** Last known health of a stage's service (grpc.health.v1 terms; "unknown" before the first check). */
export type StageHealth = "unknown" | "serving" | "not_serving";

/** Counters of one pipeline stage during a run: totals so far, not increments. */
export interface StageStats {
  stageId: string;
  eventsIn: number;
  eventsOut: number;
  deadLetters: number;
  restarts: number;
  errors: number;
  health: StageHealth;
  /** The major of its family contract the stage spoke in the run (e.g. 2 for processor_service v2); absent when unknown. */
  contractMajor?: number;
}

export interface StoredStageStats extends StageStats {
  updatedAt: Date;
}

export interface StartRunOptions {
  /** Defaults to this process's pid. */
  pid?: number;
  /** Defaults to this machine's host name. */
  host?: string;
}

export interface RunRecord {
  runId: string;
  pipeline: string;
  pipelineFile: string;
  status: RunStatus;
  startedAt: Date;
  /** Undefined while running. */
  endedAt: Date | undefined;
  /** Why the run failed, when it did. */
  error: string | undefined;
  /**
   * The process that runs (or ran) it. With `heartbeatAt` this tells a live run from one left
   * "running" by a killed process: see `isRunAbandoned`.
   */
  pid: number;
  host: string;
  /** Last sign of life: start, a stats save or a heartbeat. */
  heartbeatAt: Date;
  /**
   * The run that took the pipeline over because this one looked abandoned (it is then "failed",
   * with the reason in `error`); undefined otherwise.
   */
  supersededBy: string | undefined;
  /** In the order the stages were first saved. */
  stages: StoredStageStats[];
}

export interface ListRunsQuery {
  pipeline?: string;
  /** Newest first, at most this many; defaults to DEFAULT_RUN_LIST_LIMIT. */
  limit?: number;
}

export const DEFAULT_RUN_LIST_LIMIT = 20;

export interface ServiceRegistration {
  /** The name pipelines use (`registry: <name>`). */
  name: string;
  /** host:port the service listens on. */
  address: string;
  /** The service's component descriptor (its Describe answer) as JSON. */
  component: JsonValue;
  /** Lifetime without a heartbeat; undefined or 0 means DEFAULT_SERVICE_TTL_SECONDS. */
  ttlSeconds?: number;
}

export const DEFAULT_SERVICE_TTL_SECONDS = 30;

export interface RegisteredService {
  instanceId: string;
  name: string;
  address: string;
  component: JsonValue;
  /** The time-to-live granted. */
  ttlSeconds: number;
  registeredAt: Date;
  lastHeartbeatAt: Date;
  expiresAt: Date;
}

export interface StateStore {
  readonly kind: StateStoreKind;
  /** Where the state lives, safe to print (a file path, or a URL without its password). */
  readonly location: string;

  /**
   * Makes a checkpoint durable, atomically. Refused (committed: false) when the same run already
   * committed an equal or higher sequence for that source; a commit from another run replaces it.
   */
  commitCheckpoint(commit: CheckpointCommit): Promise<CheckpointCommitResult>;
  getCheckpoint(pipeline: string, sourceId: string): Promise<StoredCheckpoint | undefined>;
  /** Every checkpoint, or those of one pipeline, ordered by pipeline then source id. */
  listCheckpoints(pipeline?: string): Promise<StoredCheckpoint[]>;
  /** Forgets one source's checkpoint, or all of a pipeline's; returns how many were removed. */
  resetCheckpoints(pipeline: string, sourceId?: string): Promise<number>;

  /** Records a new run as "running" and returns its id. */
  startRun(pipeline: string, pipelineFile: string, options?: StartRunOptions): Promise<string>;
  /** Proves the run's process is alive; a no-op for finished runs. Throws on an unknown run id. */
  heartbeatRun(runId: string): Promise<void>;
  /** Saves the stages' current totals (and counts as a heartbeat). Throws on an unknown run id. */
  saveStageStats(runId: string, stages: readonly StageStats[]): Promise<void>;
  /** Ends a running run. Throws on an unknown run id or a run that already ended. */
  finishRun(runId: string, status: FinishedRunStatus, error?: string): Promise<void>;
  /** Newest first. */
  listRuns(query?: ListRunsQuery): Promise<RunRecord[]>;
  getRun(runId: string): Promise<RunRecord | undefined>;

  /**
   * Adds a service instance, or refreshes the live one with the same name and address (keeping its
   * instance id). Expired entries are removed on the way.
   */
  registerService(registration: ServiceRegistration): Promise<RegisteredService>;
  /** Extends an instance's life by its TTL; false when the instance is unknown or expired (register again). */
  heartbeatService(instanceId: string): Promise<boolean>;
  /** Removes an instance; false when it was not there. */
  deregisterService(instanceId: string): Promise<boolean>;
  /** Unexpired instances, of one name or all, ordered by name then registration time. */
  listServices(name?: string): Promise<RegisteredService[]>;

  /** Releases the file or the connection pool; later calls fail. Safe to call twice. */
  close(): Promise<void>;
}
