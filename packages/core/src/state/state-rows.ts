import type {
  CheckpointCommit,
  CheckpointCommitResult,
  JsonValue,
  RegisteredService,
  RunRecord,
  RunStatus,
  StageHealth,
  StageStats,
  StateStore,
  StoredCheckpoint,
  StoredStageStats,
} from "./state-store";

// The tables have the same columns in both stores (see the migrations); what differs is how each
// driver returns some values, which the type parameters name:
// - Count: a counter or sequence (node-postgres returns BIGINT as a string, better-sqlite3 a number);
// - Time: a timestamp (TIMESTAMPTZ as a Date; SQLite stores epoch milliseconds);
// - Json: a JSON column (JSONB arrives parsed; SQLite stores text).

export interface CheckpointRow<Count, Time> {
  pipeline: string;
  source_id: string;
  position: Buffer;
  description: string;
  run_id: string;
  sequence: Count;
  committed_at: Time;
}

export interface RunRow<Time> {
  run_id: string;
  pipeline: string;
  pipeline_file: string;
  status: RunStatus;
  started_at: Time;
  ended_at: Time | null;
  error: string | null;
  pid: number;
  host: string;
  heartbeat_at: Time;
  superseded_by: string | null;
}

export interface StageRow<Count, Time> {
  run_id: string;
  stage_id: string;
  events_in: Count;
  events_out: Count;
  dead_letters: Count;
  restarts: Count;
  errors: Count;
  health: StageHealth;
  /** Null for a stage saved without one (before its stream existed, or by a Flow before majors). */
  contract_major: number | null;
  updated_at: Time;
}

export interface ServiceRow<Time, Json> {
  instance_id: string;
  name: string;
  address: string;
  component: Json;
  ttl_seconds: number;
  registered_at: Time;
  last_heartbeat_at: Time;
  expires_at: Time;
}

/**
 * A stage's stats as the values of run_stages' columns events_in, events_out, dead_letters,
 * restarts, errors, health, contract_major (in that order), for either store's insert.
 */
export function stageColumnValues(stats: StageStats): (number | string | null)[] {
  return [
    stats.eventsIn,
    stats.eventsOut,
    stats.deadLetters,
    stats.restarts,
    stats.errors,
    stats.health,
    stats.contractMajor ?? null,
  ];
}

/** How a store's driver values become record values. */
export interface ColumnValues<Count, Time, Json> {
  count(value: Count): number;
  time(value: Time): Date;
  json(value: Json): JsonValue;
}

/** Rows to the records the StateStore interface returns, for a store whose driver returns `values`. */
export class RowMapper<Count, Time, Json> {
  constructor(private readonly values: ColumnValues<Count, Time, Json>) {}

  readonly checkpoint = (row: CheckpointRow<Count, Time>): StoredCheckpoint => ({
    pipeline: row.pipeline,
    sourceId: row.source_id,
    position: row.position,
    description: row.description,
    runId: row.run_id,
    sequence: this.values.count(row.sequence),
    committedAt: this.values.time(row.committed_at),
  });

  /** Each run with its stages, taken from `stages` (the stages of all of them) in their order. */
  runs(rows: readonly RunRow<Time>[], stages: readonly StageRow<Count, Time>[]): RunRecord[] {
    return rows.map((row) => ({
      runId: row.run_id,
      pipeline: row.pipeline,
      pipelineFile: row.pipeline_file,
      status: row.status,
      startedAt: this.values.time(row.started_at),
      endedAt: row.ended_at === null ? undefined : this.values.time(row.ended_at),
      error: row.error ?? undefined,
      pid: row.pid,
      host: row.host,
      heartbeatAt: this.values.time(row.heartbeat_at),
      supersededBy: row.superseded_by ?? undefined,
      stages: stages.filter((stage) => stage.run_id === row.run_id).map(this.stage),
    }));
  }

  readonly stage = (row: StageRow<Count, Time>): StoredStageStats => ({
    stageId: row.stage_id,
    eventsIn: this.values.count(row.events_in),
    eventsOut: this.values.count(row.events_out),
    deadLetters: this.values.count(row.dead_letters),
    restarts: this.values.count(row.restarts),
    errors: this.values.count(row.errors),
    health: row.health,
    ...(row.contract_major !== null ? { contractMajor: row.contract_major } : {}),
    updatedAt: this.values.time(row.updated_at),
  });

  readonly service = (row: ServiceRow<Time, Json>): RegisteredService => ({
    instanceId: row.instance_id,
    name: row.name,
    address: row.address,
    component: this.values.json(row.component),
    ttlSeconds: row.ttl_seconds,
    registeredAt: this.values.time(row.registered_at),
    lastHeartbeatAt: this.values.time(row.last_heartbeat_at),
    expiresAt: this.values.time(row.expires_at),
  });
}

/**
 * What a commit answers: the checkpoint it wrote, or, when the monotonic upsert wrote nothing (an
 * older or equal sequence of the same run), the one that stands.
 */
export async function commitResult(
  commit: CheckpointCommit,
  written: StoredCheckpoint | undefined,
  store: Pick<StateStore, "getCheckpoint">,
): Promise<CheckpointCommitResult> {
  if (written) return { committed: true, checkpoint: written };
  const current = await store.getCheckpoint(commit.pipeline, commit.sourceId);
  if (!current) throw new Error(`checkpoint of ${commit.pipeline}/${commit.sourceId} vanished during commit`);
  return { committed: false, checkpoint: current };
}
