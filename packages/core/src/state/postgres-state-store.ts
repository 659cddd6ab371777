import { randomUUID } from "node:crypto";
import os from "node:os";
import pg from "pg";
import { pendingMigrations } from "./migration";
import {
  explainPostgresFailure,
  explainPostgresOpenError,
  type PostgresEndpoint,
  unavailabilityOf,
} from "./postgres-connection-error";
import { postgresMigrations } from "./postgres-migrations";
import { abandonedRunReason, claimLost, judgeRunningRuns, type RunClaimRow } from "./run-claim";
import { finishRefused, unknownRun } from "./run-errors";
import { RunAlreadyLiveError } from "./run-liveness";
import type * as StateRows from "./state-rows";
import { commitResult, RowMapper, stageColumnValues } from "./state-rows";
import { groupColumns, missingSchemaParts } from "./state-schema";
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
import { DamagedStoreError, damagedStoreHint, type StoreOperation } from "./store-errors";

// node-postgres returns BIGINT columns as strings (they may exceed 2^53); the counters and
// sequences here stay far below that, so they become numbers with Number(). TIMESTAMPTZ arrives as
// a Date and JSONB parsed.
type CheckpointRow = StateRows.CheckpointRow<string, Date>;
type RunRow = StateRows.RunRow<Date>;
type StageRow = StateRows.StageRow<string, Date>;
type ServiceRow = StateRows.ServiceRow<Date, JsonValue>;
const rows = new RowMapper<string, Date, JsonValue>({
  count: Number,
  time: (time) => time,
  json: (json) => json,
});

export interface PostgresStateStoreOptions extends PostgresEndpoint {
  connectionString: string;
  schema: string;
  clock?: Clock;
  /** How long to wait for a connection before reporting the server unreachable. */
  connectTimeoutMs?: number;
  /**
   * How long one query may go unanswered before the store calls the server unavailable (and drops
   * that connection): a half-open connection would otherwise hang the call forever.
   */
  queryTimeoutMs?: number;
}

/** Default for `queryTimeoutMs`: far above any of the store's statements, well below a stale run's 30 s. */
export const DEFAULT_POSTGRES_QUERY_TIMEOUT_MS = 15_000;

/**
 * The state store for several hosts: tables in one PostgreSQL schema (default `flow`), reached
 * through a connection pool. Every table name is qualified with the schema, so the store works
 * whatever the connection's search_path (and through poolers that ignore startup options).
 */
export class PostgresStateStore implements StateStore {
  readonly kind = "postgres" as const;
  readonly location: string;
  private closed = false;
  private readonly t: {
    checkpoints: string;
    runs: string;
    runStages: string;
    services: string;
    migrations: string;
  };

  private constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string,
    location: string,
    private readonly clock: Clock,
    private readonly queryTimeoutMs: number,
  ) {
    this.location = location;
    const s = `"${schema}"`;
    this.t = {
      checkpoints: `${s}.checkpoints`,
      runs: `${s}.runs`,
      runStages: `${s}.run_stages`,
      services: `${s}.services`,
      migrations: `${s}.schema_migrations`,
    };
  }

  /** Connects, creates the schema and applies pending migrations; UserError when the server can't be used. */
  static async open(options: PostgresStateStoreOptions): Promise<PostgresStateStore> {
    const queryTimeoutMs = options.queryTimeoutMs ?? DEFAULT_POSTGRES_QUERY_TIMEOUT_MS;
    const pool = new pg.Pool({
      connectionString: options.connectionString,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      // Client-side, so it also ends a call on a connection whose server or network went silent.
      query_timeout: queryTimeoutMs,
      keepAlive: true,
      max: 5,
    });
    // An idle pooled connection that dies (server restart, network cut) emits 'error' on the pool,
    // which would crash the process if unheard; the pool drops that connection and the next query
    // opens a fresh one (or reports the server unavailable).
    pool.on("error", () => {});
    const store = new PostgresStateStore(
      pool,
      options.schema,
      options.display,
      options.clock ?? (() => new Date()),
      queryTimeoutMs,
    );
    try {
      await store.migrate();
      return store;
    } catch (error) {
      await pool.end().catch(() => {});
      throw explainPostgresOpenError(error, options);
    }
  }

  private async migrate(): Promise<void> {
    await this.transaction(async (client) => {
      // Serialises concurrent opens of the same schema (several hosts starting at once), so each
      // step runs once and CREATE SCHEMA never races.
      await client.query("SELECT pg_advisory_xact_lock(hashtext('flow state store'), hashtext($1))", [
        this.schema,
      ]);
      // Checking first, instead of CREATE ... IF NOT EXISTS, lets a user without CREATE rights on
      // the database use a schema an administrator prepared.
      const schemaExists = await client.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [this.schema]);
      if (schemaExists.rowCount === 0) await client.query(`CREATE SCHEMA "${this.schema}"`);
      const before = await this.tableColumns(client);
      if (!before.has("schema_migrations") && before.size > 0) {
        throw new DamagedStoreError(
          this.location,
          [
            `schema ${this.schema} has tables (${[...before.keys()].sort().join(", ")}) but no schema_migrations table: it is not Flow's, or that table was dropped`,
          ],
          damagedStoreHint("postgres", this.location),
        );
      }
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${this.t.migrations} (
          version INTEGER PRIMARY KEY,
          name TEXT NOT NULL,
          applied_at TIMESTAMPTZ NOT NULL
        )`,
      );
      const applied = await client.query<{ version: number | null }>(
        `SELECT MAX(version) AS version FROM ${this.t.migrations}`,
      );
      const migrations = pendingMigrations(
        postgresMigrations(this.schema),
        applied.rows[0]?.version ?? 0,
        this.location,
      );
      for (const migration of migrations) {
        for (const statement of migration.statements) await client.query(statement);
        await client.query(
          `INSERT INTO ${this.t.migrations} (version, name, applied_at) VALUES ($1, $2, $3)`,
          [migration.version, migration.name, this.clock()],
        );
      }
      const problems = missingSchemaParts(await this.tableColumns(client));
      if (problems.length > 0) {
        throw new DamagedStoreError(this.location, problems, damagedStoreHint("postgres", this.location));
      }
    });
  }

  private async tableColumns(client: pg.PoolClient) {
    const result = await client.query<{ table_name: string; column_name: string }>(
      "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = $1",
      [this.schema],
    );
    return groupColumns(result.rows);
  }

  /**
   * Runs `work` in one transaction on one pooled connection. A connection that breaks meanwhile is
   * destroyed, never handed back to the pool; the server gives up a transaction whose client went
   * silent (idle_in_transaction_session_timeout), so its locks cannot block other hosts for long.
   */
  private async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    // A checked-out client has no listener of the pool's: an 'error' now (the server going away
    // between two queries) would crash the process. The failing query reports it instead.
    const ignore = () => {};
    client.on("error", ignore);
    let broken: unknown;
    try {
      await client.query(
        `BEGIN; SET LOCAL statement_timeout = ${this.queryTimeoutMs}; SET LOCAL idle_in_transaction_session_timeout = ${this.queryTimeoutMs}`,
      );
      const result = await work(client);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      if (unavailabilityOf(error)) broken = error;
      else await client.query("ROLLBACK").catch((rollbackError: unknown) => (broken = rollbackError));
      throw error;
    } finally {
      client.off("error", ignore);
      client.release(broken instanceof Error ? broken : broken === undefined ? undefined : true);
    }
  }

  /** One store operation, with the driver's errors turned into store errors (see explainPostgresFailure). */
  private async attempt<T>(operation: StoreOperation, work: () => Promise<T>): Promise<T> {
    this.assertOpen();
    try {
      return await work();
    } catch (error) {
      throw explainPostgresFailure(error, this.location, operation);
    }
  }

  private async query<R extends pg.QueryResultRow>(
    text: string,
    values: unknown[] = [],
  ): Promise<pg.QueryResult<R>> {
    this.assertOpen();
    return this.pool.query<R>(text, values);
  }

  async commitCheckpoint(commit: CheckpointCommit): Promise<CheckpointCommitResult> {
    checkCheckpointCommit(commit);
    const what = `commit the checkpoint of ${commit.pipeline}/${commit.sourceId}`;
    return this.attempt({ kind: "write", what }, async () => {
      // One statement, so atomic. Fencing: FOR SHARE locks the committing run's row, so a newcomer
      // taking the pipeline over (an UPDATE of that row) waits for this commit, and a commit after
      // the takeover sees the run superseded and writes nothing. ON CONFLICT locks the checkpoint
      // row, so the monotonic WHERE sees the latest commit even when connections race.
      const result = await this.query<
        Partial<CheckpointRow> & { claim_pipeline: string | null } & Omit<RunClaimRow, "pipeline">
      >(
        `WITH claim AS (
           SELECT pipeline, status, superseded_by FROM ${this.t.runs} WHERE run_id = $5 FOR SHARE
         ), written AS (
           INSERT INTO ${this.t.checkpoints} AS c
             (pipeline, source_id, position, description, run_id, sequence, committed_at)
           SELECT $1::text, $2::text, $3::bytea, $4::text, $5::text, $6::bigint, $7::timestamptz
           FROM claim WHERE claim.pipeline = $1::text AND claim.status = 'running' AND claim.superseded_by IS NULL
           ON CONFLICT (pipeline, source_id) DO UPDATE SET
             position = excluded.position, description = excluded.description, run_id = excluded.run_id,
             sequence = excluded.sequence, committed_at = excluded.committed_at
           WHERE c.run_id <> excluded.run_id OR c.sequence < excluded.sequence
           RETURNING c.*
         )
         SELECT claim.pipeline AS claim_pipeline, claim.status, claim.superseded_by, written.*
         FROM (SELECT 1) AS one LEFT JOIN claim ON true LEFT JOIN written ON true`,
        [
          commit.pipeline,
          commit.sourceId,
          asBuffer(commit.position),
          commit.description,
          commit.runId,
          commit.sequence,
          this.clock(),
        ],
      );
      const row = result.rows[0];
      const claim = row?.claim_pipeline ? { ...row, pipeline: row.claim_pipeline } : undefined;
      const lost = claimLost(commit.runId, commit.pipeline, claim as RunClaimRow | undefined);
      if (lost) throw lost;
      const written =
        row?.source_id === undefined || row.source_id === null ? undefined : (row as CheckpointRow);
      return commitResult(commit, written && rows.checkpoint(written), this);
    });
  }

  async getCheckpoint(pipeline: string, sourceId: string): Promise<StoredCheckpoint | undefined> {
    return this.attempt(
      { kind: "read", what: `read the checkpoint of ${pipeline}/${sourceId}` },
      async () => {
        const result = await this.query<CheckpointRow>(
          `SELECT * FROM ${this.t.checkpoints} WHERE pipeline = $1 AND source_id = $2`,
          [pipeline, sourceId],
        );
        const row = result.rows[0];
        return row && rows.checkpoint(row);
      },
    );
  }

  async listCheckpoints(pipeline?: string): Promise<StoredCheckpoint[]> {
    return this.attempt({ kind: "read", what: "list the checkpoints" }, async () => {
      // COLLATE "C" orders like SQLite's byte-wise comparison, so both stores list in the same order.
      const result = await this.query<CheckpointRow>(
        `SELECT * FROM ${this.t.checkpoints} WHERE $1::text IS NULL OR pipeline = $1
         ORDER BY pipeline COLLATE "C", source_id COLLATE "C"`,
        [pipeline ?? null],
      );
      return result.rows.map(rows.checkpoint);
    });
  }

  async resetCheckpoints(pipeline: string, sourceId?: string): Promise<number> {
    return this.attempt({ kind: "write", what: `reset the checkpoints of ${pipeline}` }, async () => {
      const result = await this.query(
        `DELETE FROM ${this.t.checkpoints} WHERE pipeline = $1 AND ($2::text IS NULL OR source_id = $2)`,
        [pipeline, sourceId ?? null],
      );
      return result.rowCount ?? 0;
    });
  }

  async startRun(pipeline: string, pipelineFile: string, options: StartRunOptions = {}): Promise<string> {
    return this.attempt({ kind: "write", what: `record the start of a run of ${pipeline}` }, () =>
      this.transaction(async (client) => {
        // The claim: a lock per schema and pipeline, held to the end of the transaction, so claims of
        // one pipeline from any host happen one after another; the unique index on running runs
        // (migration 2) backs it up.
        await client.query("SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))", [
          `flow run claim ${this.schema}`,
          pipeline,
        ]);
        const runId = randomUUID();
        const now = this.clock();
        const running = await client.query<RunRow>(
          `SELECT * FROM ${this.t.runs} WHERE pipeline = $1 AND status = 'running' FOR UPDATE`,
          [pipeline],
        );
        const { abandoned, live } = judgeRunningRuns(rows.runs(running.rows, []), now);
        if (live) throw new RunAlreadyLiveError(live, "start another run of it");
        for (const run of abandoned) {
          await client.query(
            `UPDATE ${this.t.runs} SET status = 'failed', error = $1, ended_at = $2, superseded_by = $3
             WHERE run_id = $4`,
            [abandonedRunReason(run, now, runId), now, runId, run.runId],
          );
        }
        await client.query(
          `INSERT INTO ${this.t.runs} (run_id, pipeline, pipeline_file, status, started_at, pid, host, heartbeat_at)
           VALUES ($1, $2, $3, 'running', $4, $5, $6, $4)`,
          [runId, pipeline, pipelineFile, now, options.pid ?? process.pid, options.host ?? os.hostname()],
        );
        return runId;
      }),
    );
  }

  async heartbeatRun(runId: string): Promise<void> {
    await this.attempt({ kind: "write", what: `record a heartbeat of run ${runId}` }, () =>
      this.touchRun(this.pool, runId, this.clock()),
    );
  }

  /** Refreshes a running run's heartbeat; refuses an unknown run, and one another run took over. */
  private async touchRun(db: pg.Pool | pg.PoolClient, runId: string, now: Date): Promise<void> {
    const result = await db.query<RunClaimRow>(
      `UPDATE ${this.t.runs}
       SET heartbeat_at = CASE WHEN status = 'running' THEN $1 ELSE heartbeat_at END
       WHERE run_id = $2
       RETURNING pipeline, status, superseded_by`,
      [now, runId],
    );
    const claim = result.rows[0];
    if (!claim) throw unknownRun(runId);
    if (claim.superseded_by) throw claimLost(runId, claim.pipeline, claim);
  }

  async saveStageStats(runId: string, stages: readonly StageStats[]): Promise<void> {
    checkStageStats(stages);
    const now = this.clock();
    await this.attempt({ kind: "write", what: `save the stage counters of run ${runId}` }, () =>
      this.transaction(async (client) => {
        await this.touchRun(client, runId, now);
        for (const s of stages) {
          await client.query(
            `INSERT INTO ${this.t.runStages}
               (run_id, stage_id, ordinal, events_in, events_out, dead_letters, restarts, errors, health,
                contract_major, updated_at)
             VALUES ($1, $2, (SELECT COUNT(*) FROM ${this.t.runStages} WHERE run_id = $1),
                     $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT (run_id, stage_id) DO UPDATE SET
               events_in = excluded.events_in, events_out = excluded.events_out,
               dead_letters = excluded.dead_letters, restarts = excluded.restarts, errors = excluded.errors,
               health = excluded.health, updated_at = excluded.updated_at,
               contract_major = COALESCE(excluded.contract_major, ${this.t.runStages}.contract_major)`,
            [runId, s.stageId, ...stageColumnValues(s), now],
          );
        }
      }),
    );
  }

  async finishRun(runId: string, status: FinishedRunStatus, error?: string): Promise<void> {
    const now = this.clock();
    await this.attempt({ kind: "write", what: `record the end of run ${runId}` }, async () => {
      const result = await this.query(
        `UPDATE ${this.t.runs} SET status = $1, error = $2, ended_at = $3, heartbeat_at = $3
         WHERE run_id = $4 AND status = 'running'`,
        [status, error ?? null, now, runId],
      );
      if (result.rowCount !== 0) return;
      const claim = (
        await this.query<RunClaimRow>(
          `SELECT pipeline, status, superseded_by FROM ${this.t.runs} WHERE run_id = $1`,
          [runId],
        )
      ).rows[0];
      if (claim?.superseded_by) throw claimLost(runId, claim.pipeline, claim);
      throw finishRefused(runId, claim);
    });
  }

  async listRuns(query: ListRunsQuery = {}): Promise<RunRecord[]> {
    const limit = runListLimit(query);
    return this.attempt({ kind: "read", what: "list the runs" }, async () => {
      const result = await this.query<RunRow>(
        `SELECT * FROM ${this.t.runs} WHERE $1::text IS NULL OR pipeline = $1 ORDER BY seq DESC LIMIT $2`,
        [query.pipeline ?? null, limit],
      );
      return this.withStages(result.rows);
    });
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    return this.attempt({ kind: "read", what: `read run ${runId}` }, async () => {
      const result = await this.query<RunRow>(`SELECT * FROM ${this.t.runs} WHERE run_id = $1`, [runId]);
      return (await this.withStages(result.rows))[0];
    });
  }

  private async withStages(runs: RunRow[]): Promise<RunRecord[]> {
    if (runs.length === 0) return [];
    const stages = await this.query<StageRow>(
      `SELECT * FROM ${this.t.runStages} WHERE run_id = ANY($1::text[]) ORDER BY ordinal, stage_id COLLATE "C"`,
      [runs.map((r) => r.run_id)],
    );
    return rows.runs(runs, stages.rows);
  }

  async registerService(registration: ServiceRegistration): Promise<RegisteredService> {
    const ttlSeconds = grantedTtlSeconds(registration.ttlSeconds);
    const now = this.clock();
    return this.attempt({ kind: "write", what: `register service ${registration.name}` }, async () => {
      const row = await this.transaction(async (client) => {
        // Dropping expired entries first means a conflict below is always with a live instance.
        await client.query(`DELETE FROM ${this.t.services} WHERE expires_at <= $1`, [now]);
        const result = await client.query<ServiceRow>(
          `INSERT INTO ${this.t.services}
             (instance_id, name, address, component, ttl_seconds, registered_at, last_heartbeat_at, expires_at)
           VALUES ($1, $2, $3, $4::jsonb, $5, $6, $6, $7)
           ON CONFLICT (name, address) DO UPDATE SET
             component = excluded.component, ttl_seconds = excluded.ttl_seconds,
             last_heartbeat_at = excluded.last_heartbeat_at, expires_at = excluded.expires_at
           RETURNING *`,
          [
            randomUUID(),
            registration.name,
            registration.address,
            // Passed as text: node-postgres would turn a JS array into a PostgreSQL array, not JSON.
            JSON.stringify(registration.component),
            ttlSeconds,
            now,
            new Date(now.getTime() + ttlSeconds * 1000),
          ],
        );
        return result.rows[0] as ServiceRow;
      });
      return rows.service(row);
    });
  }

  async heartbeatService(instanceId: string): Promise<boolean> {
    const now = this.clock();
    return this.attempt(
      { kind: "write", what: `record a heartbeat of service instance ${instanceId}` },
      async () => {
        const result = await this.query(
          `UPDATE ${this.t.services}
         SET last_heartbeat_at = $1, expires_at = $1::timestamptz + ttl_seconds * interval '1 second'
         WHERE instance_id = $2 AND expires_at > $1`,
          [now, instanceId],
        );
        return (result.rowCount ?? 0) > 0;
      },
    );
  }

  async deregisterService(instanceId: string): Promise<boolean> {
    return this.attempt({ kind: "write", what: `deregister service instance ${instanceId}` }, async () => {
      const result = await this.query(`DELETE FROM ${this.t.services} WHERE instance_id = $1`, [instanceId]);
      return (result.rowCount ?? 0) > 0;
    });
  }

  async listServices(name?: string): Promise<RegisteredService[]> {
    return this.attempt({ kind: "read", what: "list the services" }, async () => {
      const result = await this.query<ServiceRow>(
        `SELECT * FROM ${this.t.services} WHERE expires_at > $1 AND ($2::text IS NULL OR name = $2)
         ORDER BY name COLLATE "C", registered_at, instance_id COLLATE "C"`,
        [this.clock(), name ?? null],
      );
      return result.rows.map(rows.service);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`the state store at ${this.location} is closed`);
  }
}
