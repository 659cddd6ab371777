import { randomUUID } from "node:crypto";
import os from "node:os";
import { UserError } from "@flow/errors";
import Database from "better-sqlite3";
import { pendingMigrations } from "./migration";
import { abandonedRunReason, claimLost, judgeRunningRuns, type RunClaimRow } from "./run-claim";
import { finishRefused, unknownRun } from "./run-errors";
import { RunAlreadyLiveError } from "./run-liveness";
import { explainSqliteFailure, isSqliteError } from "./sqlite-failure";
import { SQLITE_MIGRATIONS } from "./sqlite-migrations";
import { cannotOpenStateFile, createStateFile, inspectStateFile } from "./sqlite-state-file";
import type * as StateRows from "./state-rows";
import { RowMapper, stageColumnValues } from "./state-rows";
import { missingSchemaParts, sqliteTableColumns } from "./state-schema";
import type {
  CheckpointCommit,
  CheckpointCommitResult,
  Clock,
  FinishedRunStatus,
  JsonValue,
  ListRunsQuery,
  RegisteredService,
  RunRecord,
  ServiceRegistration,
  StageStats,
  StartRunOptions,
  StateStore,
  StoredCheckpoint,
} from "./state-store";
import {
  asBuffer,
  checkCheckpointCommit,
  checkStageStats,
  grantedTtlSeconds,
  runListLimit,
} from "./state-store-input";
import {
  DamagedStoreError,
  damagedStoreHint,
  type StoreOperation,
  StoreUnavailableError,
} from "./store-errors";

// better-sqlite3 returns INTEGER columns as numbers; timestamps are stored as epoch milliseconds
// and JSON as text.
type CheckpointRow = StateRows.CheckpointRow<number, number>;
type RunRow = StateRows.RunRow<number>;
type StageRow = StateRows.StageRow<number, number>;
type ServiceRow = StateRows.ServiceRow<number, string>;
const rows = new RowMapper<number, number, string>({
  count: (count) => count,
  time: (ms) => new Date(ms),
  json: (text) => JSON.parse(text) as JsonValue,
});

/** How long a connection waits for another one's write lock before giving up with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 10_000;

/**
 * The embedded state store: one SQLite file in WAL mode, so readers (`flow status`) never block the
 * running pipeline and several processes can share the file. better-sqlite3 is synchronous; every
 * method still returns a promise so both stores share one interface.
 */
export class SqliteStateStore implements StateStore {
  readonly kind = "sqlite" as const;
  readonly location: string;
  private readonly db: Database.Database;
  private closed = false;

  private constructor(
    db: Database.Database,
    location: string,
    private readonly clock: Clock,
  ) {
    this.db = db;
    this.location = location;
  }

  /**
   * Opens (creating folders, file and schema as needed) the store at an absolute path or
   * ":memory:". Refuses, with a UserError and before touching it, a path that is no place for a
   * store (see inspectStateFile), and a damaged store (an empty file, tables or columns missing).
   */
  static open(file: string, clock: Clock = () => new Date()): SqliteStateStore {
    if (file === ":memory:") return SqliteStateStore.openFile(file, clock);
    if (inspectStateFile(file) === "missing") {
      try {
        createStateFile(file, (temp) => SqliteStateStore.openFile(temp, clock, file).db.close());
      } catch (error) {
        throw openFailure(file, error);
      }
    }
    return SqliteStateStore.openFile(file, clock);
  }

  /** Opens an existing file (or a new temporary one, `location` naming the real one in errors) and migrates it. */
  private static openFile(file: string, clock: Clock, location = file): SqliteStateStore {
    let db: Database.Database;
    try {
      db = new Database(file, {
        timeout: BUSY_TIMEOUT_MS,
        fileMustExist: file !== ":memory:" && file === location,
      });
    } catch (error) {
      throw openFailure(location, error);
    }
    try {
      // Reading the journal mode is the first real read: a file that is not a database fails here.
      db.pragma("journal_mode = WAL");
      // NORMAL in WAL mode survives a process crash; a power cut may lose the newest commits, which
      // at-least-once delivery tolerates (the events since the older checkpoint are replayed).
      db.pragma("synchronous = NORMAL");
      db.pragma("foreign_keys = ON");
      const store = new SqliteStateStore(db, location, clock);
      store.migrate();
      return store;
    } catch (error) {
      db.close();
      throw openFailure(location, error);
    }
  }

  private migrate(): void {
    // IMMEDIATE takes the write lock before reading the version, so two processes opening a new
    // file at once apply each step exactly once.
    this.db
      .transaction(() => {
        const before = sqliteTableColumns(this.db);
        if (!before.has("schema_migrations") && before.size > 0) {
          throw new DamagedStoreError(
            this.location,
            [
              `it has tables (${[...before.keys()].sort().join(", ")}) but no schema_migrations table: it is not a Flow state store, or that table was dropped`,
            ],
            damagedStoreHint("sqlite", this.location),
          );
        }
        this.db.exec(
          `CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            applied_at INTEGER NOT NULL
          )`,
        );
        const row = this.db.prepare("SELECT MAX(version) AS version FROM schema_migrations").get() as {
          version: number | null;
        };
        for (const migration of pendingMigrations(SQLITE_MIGRATIONS, row.version ?? 0, this.location)) {
          for (const statement of migration.statements) this.db.exec(statement);
          this.db
            .prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)")
            .run(migration.version, migration.name, this.now());
        }
        const problems = missingSchemaParts(sqliteTableColumns(this.db));
        if (problems.length > 0) {
          throw new DamagedStoreError(this.location, problems, damagedStoreHint("sqlite", this.location));
        }
      })
      .immediate();
  }

  /**
   * Runs one store operation, turning SQLite's errors into the store errors of store-errors.ts.
   * Writes run in one IMMEDIATE transaction whose COMMIT is a statement of its own: a commit that
   * fails (disk full) throws, instead of a RETURNING row reporting a write that did not happen.
   */
  private attempt<T>(operation: StoreOperation, work: () => T): T {
    this.assertOpen();
    try {
      return operation.kind === "write" ? this.db.transaction(work).immediate() : work();
    } catch (error) {
      throw explainSqliteFailure(error, this.location, operation);
    }
  }

  /** The claim columns of a run, read inside the caller's transaction. */
  private claimOf(runId: string): RunClaimRow | undefined {
    return this.db.prepare("SELECT pipeline, status, superseded_by FROM runs WHERE run_id = ?").get(runId) as
      | RunClaimRow
      | undefined;
  }

  async commitCheckpoint(commit: CheckpointCommit): Promise<CheckpointCommitResult> {
    checkCheckpointCommit(commit);
    const what = `commit the checkpoint of ${commit.pipeline}/${commit.sourceId}`;
    return this.attempt({ kind: "write", what }, () => {
      // Fencing: in the same transaction as the write, so a run taken over in between cannot slip in.
      const lost = claimLost(commit.runId, commit.pipeline, this.claimOf(commit.runId));
      if (lost) throw lost;
      // The WHERE makes it monotonic within a run.
      const [row] = this.db
        .prepare(
          `INSERT INTO checkpoints (pipeline, source_id, position, description, run_id, sequence, committed_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (pipeline, source_id) DO UPDATE SET
             position = excluded.position, description = excluded.description, run_id = excluded.run_id,
             sequence = excluded.sequence, committed_at = excluded.committed_at
           WHERE checkpoints.run_id <> excluded.run_id OR checkpoints.sequence < excluded.sequence
           RETURNING *`,
        )
        .all(
          commit.pipeline,
          commit.sourceId,
          asBuffer(commit.position),
          commit.description,
          commit.runId,
          commit.sequence,
          this.now(),
        ) as CheckpointRow[];
      if (row) return { committed: true, checkpoint: rows.checkpoint(row) };
      const current = this.readCheckpoint(commit.pipeline, commit.sourceId);
      if (!current)
        throw new Error(`checkpoint of ${commit.pipeline}/${commit.sourceId} vanished during commit`);
      return { committed: false, checkpoint: current };
    });
  }

  private readCheckpoint(pipeline: string, sourceId: string): StoredCheckpoint | undefined {
    const row = this.db
      .prepare("SELECT * FROM checkpoints WHERE pipeline = ? AND source_id = ?")
      .get(pipeline, sourceId) as CheckpointRow | undefined;
    return row && rows.checkpoint(row);
  }

  async getCheckpoint(pipeline: string, sourceId: string): Promise<StoredCheckpoint | undefined> {
    return this.attempt({ kind: "read", what: `read the checkpoint of ${pipeline}/${sourceId}` }, () =>
      this.readCheckpoint(pipeline, sourceId),
    );
  }

  async listCheckpoints(pipeline?: string): Promise<StoredCheckpoint[]> {
    return this.attempt({ kind: "read", what: "list the checkpoints" }, () => {
      const checkpoints = this.db
        .prepare("SELECT * FROM checkpoints WHERE ? IS NULL OR pipeline = ? ORDER BY pipeline, source_id")
        .all(pipeline ?? null, pipeline ?? null) as CheckpointRow[];
      return checkpoints.map(rows.checkpoint);
    });
  }

  async resetCheckpoints(pipeline: string, sourceId?: string): Promise<number> {
    return this.attempt(
      { kind: "write", what: `reset the checkpoints of ${pipeline}` },
      () =>
        this.db
          .prepare("DELETE FROM checkpoints WHERE pipeline = ? AND (? IS NULL OR source_id = ?)")
          .run(pipeline, sourceId ?? null, sourceId ?? null).changes,
    );
  }

  async startRun(pipeline: string, pipelineFile: string, options: StartRunOptions = {}): Promise<string> {
    // One IMMEDIATE transaction holds the file's write lock from the look at the running runs to
    // the insert, so two processes claiming at once are serialised: exactly one wins.
    return this.attempt({ kind: "write", what: `record the start of a run of ${pipeline}` }, () => {
      const runId = randomUUID();
      const now = this.now();
      const running = this.db
        .prepare("SELECT * FROM runs WHERE pipeline = ? AND status = 'running'")
        .all(pipeline) as RunRow[];
      const { abandoned, live } = judgeRunningRuns(rows.runs(running, []), new Date(now));
      if (live) throw new RunAlreadyLiveError(live, "start another run of it");
      const close = this.db.prepare(
        `UPDATE runs SET status = 'failed', error = ?, ended_at = ?, superseded_by = ?
         WHERE run_id = ? AND status = 'running'`,
      );
      for (const run of abandoned)
        close.run(abandonedRunReason(run, new Date(now), runId), now, runId, run.runId);
      this.db
        .prepare(
          `INSERT INTO runs (run_id, pipeline, pipeline_file, status, started_at, pid, host, heartbeat_at)
           VALUES (?, ?, ?, 'running', ?, ?, ?, ?)`,
        )
        .run(
          runId,
          pipeline,
          pipelineFile,
          now,
          options.pid ?? process.pid,
          options.host ?? os.hostname(),
          now,
        );
      return runId;
    });
  }

  async heartbeatRun(runId: string): Promise<void> {
    this.attempt({ kind: "write", what: `record a heartbeat of run ${runId}` }, () =>
      this.touchRun(runId, this.now()),
    );
  }

  async saveStageStats(runId: string, stages: readonly StageStats[]): Promise<void> {
    checkStageStats(stages);
    const now = this.now();
    this.attempt({ kind: "write", what: `save the stage counters of run ${runId}` }, () => {
      this.touchRun(runId, now);
      const upsert = this.db.prepare(
        `INSERT INTO run_stages
           (run_id, stage_id, ordinal, events_in, events_out, dead_letters, restarts, errors, health,
            contract_major, updated_at)
         VALUES (?, ?, (SELECT COUNT(*) FROM run_stages WHERE run_id = ?), ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (run_id, stage_id) DO UPDATE SET
           events_in = excluded.events_in, events_out = excluded.events_out,
           dead_letters = excluded.dead_letters, restarts = excluded.restarts, errors = excluded.errors,
           health = excluded.health, updated_at = excluded.updated_at,
           contract_major = COALESCE(excluded.contract_major, run_stages.contract_major)`,
      );
      for (const s of stages) {
        upsert.run(runId, s.stageId, runId, ...stageColumnValues(s), now);
      }
    });
  }

  /** Refreshes a running run's heartbeat; refuses an unknown run, and one another run took over. */
  private touchRun(runId: string, now: number): void {
    const claim = this.claimOf(runId);
    if (!claim) throw unknownRun(runId);
    if (claim.superseded_by) throw claimLost(runId, claim.pipeline, claim);
    this.db
      .prepare("UPDATE runs SET heartbeat_at = ? WHERE run_id = ? AND status = 'running'")
      .run(now, runId);
  }

  async finishRun(runId: string, status: FinishedRunStatus, error?: string): Promise<void> {
    const now = this.now();
    this.attempt({ kind: "write", what: `record the end of run ${runId}` }, () => {
      const { changes } = this.db
        .prepare(
          `UPDATE runs SET status = ?, error = ?, ended_at = ?, heartbeat_at = ?
           WHERE run_id = ? AND status = 'running'`,
        )
        .run(status, error ?? null, now, now, runId);
      if (changes > 0) return;
      const claim = this.claimOf(runId);
      if (claim?.superseded_by) throw claimLost(runId, claim.pipeline, claim);
      throw finishRefused(runId, claim && { status: claim.status });
    });
  }

  async listRuns(query: ListRunsQuery = {}): Promise<RunRecord[]> {
    const limit = runListLimit(query);
    const pipeline = query.pipeline ?? null;
    return this.attempt({ kind: "read", what: "list the runs" }, () => {
      const runs = this.db
        .prepare("SELECT * FROM runs WHERE ? IS NULL OR pipeline = ? ORDER BY seq DESC LIMIT ?")
        .all(pipeline, pipeline, limit) as RunRow[];
      return this.withStages(runs);
    });
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    return this.attempt({ kind: "read", what: `read run ${runId}` }, () => {
      const row = this.db.prepare("SELECT * FROM runs WHERE run_id = ?").get(runId) as RunRow | undefined;
      return row && this.withStages([row])[0];
    });
  }

  private withStages(runs: RunRow[]): RunRecord[] {
    if (runs.length === 0) return [];
    const stages = this.db
      .prepare(
        `SELECT * FROM run_stages WHERE run_id IN (SELECT value FROM json_each(?)) ORDER BY run_id, ordinal`,
      )
      .all(JSON.stringify(runs.map((r) => r.run_id))) as StageRow[];
    return rows.runs(runs, stages);
  }

  async registerService(registration: ServiceRegistration): Promise<RegisteredService> {
    const ttlSeconds = grantedTtlSeconds(registration.ttlSeconds);
    const now = this.now();
    return this.attempt({ kind: "write", what: `register service ${registration.name}` }, () => {
      // Dropping expired entries first means a conflict below is always with a live instance.
      this.db.prepare("DELETE FROM services WHERE expires_at <= ?").run(now);
      const [row] = this.db
        .prepare(
          `INSERT INTO services
             (instance_id, name, address, component, ttl_seconds, registered_at, last_heartbeat_at, expires_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (name, address) DO UPDATE SET
             component = excluded.component, ttl_seconds = excluded.ttl_seconds,
             last_heartbeat_at = excluded.last_heartbeat_at, expires_at = excluded.expires_at
           RETURNING *`,
        )
        .all(
          randomUUID(),
          registration.name,
          registration.address,
          JSON.stringify(registration.component),
          ttlSeconds,
          now,
          now,
          now + ttlSeconds * 1000,
        ) as ServiceRow[];
      return rows.service(row as ServiceRow);
    });
  }

  async heartbeatService(instanceId: string): Promise<boolean> {
    const now = this.now();
    return this.attempt(
      { kind: "write", what: `record a heartbeat of service instance ${instanceId}` },
      () => {
        const { changes } = this.db
          .prepare(
            `UPDATE services SET last_heartbeat_at = ?, expires_at = ? + ttl_seconds * 1000
           WHERE instance_id = ? AND expires_at > ?`,
          )
          .run(now, now, instanceId, now);
        return changes > 0;
      },
    );
  }

  async deregisterService(instanceId: string): Promise<boolean> {
    return this.attempt(
      { kind: "write", what: `deregister service instance ${instanceId}` },
      () => this.db.prepare("DELETE FROM services WHERE instance_id = ?").run(instanceId).changes > 0,
    );
  }

  async listServices(name?: string): Promise<RegisteredService[]> {
    return this.attempt({ kind: "read", what: "list the services" }, () => {
      const services = this.db
        .prepare(
          `SELECT * FROM services WHERE expires_at > ? AND (? IS NULL OR name = ?)
           ORDER BY name, registered_at, instance_id`,
        )
        .all(this.now(), name ?? null, name ?? null) as ServiceRow[];
      return services.map(rows.service);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  private now(): number {
    return this.clock().getTime();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`the state store at ${this.location} is closed`);
  }
}

/** An error while opening: store errors and UserErrors as they are, SQLite's busy lock as unavailable, the rest as "cannot open". */
function openFailure(file: string, error: unknown): UserError {
  if (error instanceof UserError) return error;
  const explained = explainSqliteFailure(error, file, { kind: "read", what: "open" });
  if (explained instanceof StoreUnavailableError) return explained;
  const code = isSqliteError(error) ? ` (${error.code})` : "";
  const message = isSqliteError(error) || error instanceof Error ? error.message : String(error);
  return cannotOpenStateFile(file, `${message}${code}`);
}
