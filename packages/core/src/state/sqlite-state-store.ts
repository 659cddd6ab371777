import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { UserError } from "@flow/errors";
import Database from "better-sqlite3";
import { pendingMigrations } from "./migration";
import { finishRefused, unknownRun } from "./run-errors";
import { SQLITE_MIGRATIONS } from "./sqlite-migrations";
import type * as StateRows from "./state-rows";
import { commitResult, RowMapper } from "./state-rows";
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

  /** Opens (creating folders, file and schema as needed) the store at an absolute path or ":memory:". */
  static open(file: string, clock: Clock = () => new Date()): SqliteStateStore {
    let db: Database.Database;
    try {
      if (file !== ":memory:") fs.mkdirSync(path.dirname(file), { recursive: true });
      db = new Database(file, { timeout: BUSY_TIMEOUT_MS });
    } catch (error) {
      throw cannotOpen(file, error);
    }
    try {
      // Reading the journal mode is the first real read: a file that is not a database fails here.
      db.pragma("journal_mode = WAL");
      // NORMAL in WAL mode survives a process crash; a power cut may lose the newest commits, which
      // at-least-once delivery tolerates (the events since the older checkpoint are replayed).
      db.pragma("synchronous = NORMAL");
      db.pragma("foreign_keys = ON");
      const store = new SqliteStateStore(db, file, clock);
      store.migrate();
      return store;
    } catch (error) {
      db.close();
      if (error instanceof UserError) throw error;
      throw cannotOpen(file, error);
    }
  }

  private migrate(): void {
    // IMMEDIATE takes the write lock before reading the version, so two processes opening a new
    // file at once apply each step exactly once.
    this.db
      .transaction(() => {
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
      })
      .immediate();
  }

  async commitCheckpoint(commit: CheckpointCommit): Promise<CheckpointCommitResult> {
    this.assertOpen();
    checkCheckpointCommit(commit);
    // One statement, so atomic; the WHERE makes it monotonic within a run.
    const row = this.db
      .prepare(
        `INSERT INTO checkpoints (pipeline, source_id, position, description, run_id, sequence, committed_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (pipeline, source_id) DO UPDATE SET
           position = excluded.position, description = excluded.description, run_id = excluded.run_id,
           sequence = excluded.sequence, committed_at = excluded.committed_at
         WHERE checkpoints.run_id <> excluded.run_id OR checkpoints.sequence < excluded.sequence
         RETURNING *`,
      )
      .get(
        commit.pipeline,
        commit.sourceId,
        asBuffer(commit.position),
        commit.description,
        commit.runId,
        commit.sequence,
        this.now(),
      ) as CheckpointRow | undefined;
    return commitResult(commit, row && rows.checkpoint(row), this);
  }

  async getCheckpoint(pipeline: string, sourceId: string): Promise<StoredCheckpoint | undefined> {
    this.assertOpen();
    const row = this.db
      .prepare("SELECT * FROM checkpoints WHERE pipeline = ? AND source_id = ?")
      .get(pipeline, sourceId) as CheckpointRow | undefined;
    return row && rows.checkpoint(row);
  }

  async listCheckpoints(pipeline?: string): Promise<StoredCheckpoint[]> {
    this.assertOpen();
    const checkpoints = this.db
      .prepare("SELECT * FROM checkpoints WHERE ? IS NULL OR pipeline = ? ORDER BY pipeline, source_id")
      .all(pipeline ?? null, pipeline ?? null) as CheckpointRow[];
    return checkpoints.map(rows.checkpoint);
  }

  async resetCheckpoints(pipeline: string, sourceId?: string): Promise<number> {
    this.assertOpen();
    return this.db
      .prepare("DELETE FROM checkpoints WHERE pipeline = ? AND (? IS NULL OR source_id = ?)")
      .run(pipeline, sourceId ?? null, sourceId ?? null).changes;
  }

  async startRun(pipeline: string, pipelineFile: string, options: StartRunOptions = {}): Promise<string> {
    this.assertOpen();
    const runId = randomUUID();
    const now = this.now();
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
  }

  async heartbeatRun(runId: string): Promise<void> {
    this.assertOpen();
    this.touchRun(runId, this.now());
  }

  async saveStageStats(runId: string, stages: readonly StageStats[]): Promise<void> {
    this.assertOpen();
    checkStageStats(stages);
    const now = this.now();
    const upsert = this.db.prepare(
      `INSERT INTO run_stages
         (run_id, stage_id, ordinal, events_in, events_out, dead_letters, restarts, errors, health, updated_at)
       VALUES (?, ?, (SELECT COUNT(*) FROM run_stages WHERE run_id = ?), ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_id, stage_id) DO UPDATE SET
         events_in = excluded.events_in, events_out = excluded.events_out,
         dead_letters = excluded.dead_letters, restarts = excluded.restarts, errors = excluded.errors,
         health = excluded.health, updated_at = excluded.updated_at`,
    );
    this.db
      .transaction(() => {
        this.touchRun(runId, now);
        for (const s of stages) {
          upsert.run(
            runId,
            s.stageId,
            runId,
            s.eventsIn,
            s.eventsOut,
            s.deadLetters,
            s.restarts,
            s.errors,
            s.health,
            now,
          );
        }
      })
      .immediate();
  }

  private touchRun(runId: string, now: number): void {
    const { changes } = this.db
      .prepare(
        "UPDATE runs SET heartbeat_at = CASE WHEN status = 'running' THEN ? ELSE heartbeat_at END WHERE run_id = ?",
      )
      .run(now, runId);
    if (changes === 0) throw unknownRun(runId);
  }

  async finishRun(runId: string, status: FinishedRunStatus, error?: string): Promise<void> {
    this.assertOpen();
    const now = this.now();
    const { changes } = this.db
      .prepare(
        `UPDATE runs SET status = ?, error = ?, ended_at = ?, heartbeat_at = ?
         WHERE run_id = ? AND status = 'running'`,
      )
      .run(status, error ?? null, now, now, runId);
    if (changes === 0) throw finishRefused(runId, await this.getRun(runId));
  }

  async listRuns(query: ListRunsQuery = {}): Promise<RunRecord[]> {
    this.assertOpen();
    const limit = runListLimit(query);
    const pipeline = query.pipeline ?? null;
    const runs = this.db
      .prepare("SELECT * FROM runs WHERE ? IS NULL OR pipeline = ? ORDER BY seq DESC LIMIT ?")
      .all(pipeline, pipeline, limit) as RunRow[];
    return this.withStages(runs);
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    this.assertOpen();
    const row = this.db.prepare("SELECT * FROM runs WHERE run_id = ?").get(runId) as RunRow | undefined;
    return row && this.withStages([row])[0];
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
    this.assertOpen();
    const ttlSeconds = grantedTtlSeconds(registration.ttlSeconds);
    const now = this.now();
    const row = this.db
      .transaction(() => {
        // Dropping expired entries first means a conflict below is always with a live instance.
        this.db.prepare("DELETE FROM services WHERE expires_at <= ?").run(now);
        return this.db
          .prepare(
            `INSERT INTO services
               (instance_id, name, address, component, ttl_seconds, registered_at, last_heartbeat_at, expires_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (name, address) DO UPDATE SET
               component = excluded.component, ttl_seconds = excluded.ttl_seconds,
               last_heartbeat_at = excluded.last_heartbeat_at, expires_at = excluded.expires_at
             RETURNING *`,
          )
          .get(
            randomUUID(),
            registration.name,
            registration.address,
            JSON.stringify(registration.component),
            ttlSeconds,
            now,
            now,
            now + ttlSeconds * 1000,
          ) as ServiceRow;
      })
      .immediate();
    return rows.service(row);
  }

  async heartbeatService(instanceId: string): Promise<boolean> {
    this.assertOpen();
    const now = this.now();
    const { changes } = this.db
      .prepare(
        `UPDATE services SET last_heartbeat_at = ?, expires_at = ? + ttl_seconds * 1000
         WHERE instance_id = ? AND expires_at > ?`,
      )
      .run(now, now, instanceId, now);
    return changes > 0;
  }

  async deregisterService(instanceId: string): Promise<boolean> {
    this.assertOpen();
    return this.db.prepare("DELETE FROM services WHERE instance_id = ?").run(instanceId).changes > 0;
  }

  async listServices(name?: string): Promise<RegisteredService[]> {
    this.assertOpen();
    const services = this.db
      .prepare(
        `SELECT * FROM services WHERE expires_at > ? AND (? IS NULL OR name = ?)
         ORDER BY name, registered_at, instance_id`,
      )
      .all(this.now(), name ?? null, name ?? null) as ServiceRow[];
    return services.map(rows.service);
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

function cannotOpen(file: string, error: unknown): UserError {
  const reason = error instanceof Error ? error.message : String(error);
  return new UserError(`cannot open the SQLite state store at ${file}: ${reason}`, {
    hint: "check that the path is a writable folder location and not another kind of file, or choose another sqlite: path",
  });
}
