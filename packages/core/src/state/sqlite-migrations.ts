import type { Migration } from "./migration";

// Times are integer milliseconds since the Unix epoch: SQLite has no time type, and integers
// compare and sort correctly for expiry and ordering.
export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "checkpoints, runs, run stages and services",
    statements: [
      `CREATE TABLE checkpoints (
        pipeline TEXT NOT NULL,
        source_id TEXT NOT NULL,
        position BLOB NOT NULL,
        description TEXT NOT NULL,
        run_id TEXT NOT NULL,
        sequence INTEGER NOT NULL,
        committed_at INTEGER NOT NULL,
        PRIMARY KEY (pipeline, source_id)
      )`,
      `CREATE TABLE runs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT NOT NULL UNIQUE,
        pipeline TEXT NOT NULL,
        pipeline_file TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'stopped')),
        started_at INTEGER NOT NULL,
        ended_at INTEGER,
        error TEXT,
        pid INTEGER NOT NULL,
        host TEXT NOT NULL,
        heartbeat_at INTEGER NOT NULL
      )`,
      "CREATE INDEX runs_by_pipeline ON runs (pipeline, seq)",
      `CREATE TABLE run_stages (
        run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
        stage_id TEXT NOT NULL,
        ordinal INTEGER NOT NULL,
        events_in INTEGER NOT NULL,
        events_out INTEGER NOT NULL,
        dead_letters INTEGER NOT NULL,
        restarts INTEGER NOT NULL,
        errors INTEGER NOT NULL,
        health TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (run_id, stage_id)
      )`,
      `CREATE TABLE services (
        instance_id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        address TEXT NOT NULL,
        component TEXT NOT NULL,
        ttl_seconds INTEGER NOT NULL,
        registered_at INTEGER NOT NULL,
        last_heartbeat_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        UNIQUE (name, address)
      )`,
      "CREATE INDEX services_by_expiry ON services (expires_at)",
    ],
  },
  {
    version: 2,
    name: "one running run per pipeline, and who took over an abandoned one",
    statements: [
      "ALTER TABLE runs ADD COLUMN superseded_by TEXT",
      // Before the claim was atomic two runs could both be "running"; the unique index below needs
      // one at most, so all but the newest are closed (the newest is the one that may still run).
      `UPDATE runs SET status = 'failed', ended_at = heartbeat_at,
         error = 'abandoned: a newer run of the pipeline was running when runs became exclusive'
       WHERE status = 'running'
         AND seq < (SELECT MAX(r.seq) FROM runs r WHERE r.pipeline = runs.pipeline AND r.status = 'running')`,
      // The claim's guarantee in the schema itself: at most one running run per pipeline.
      "CREATE UNIQUE INDEX runs_one_running_per_pipeline ON runs (pipeline) WHERE status = 'running'",
    ],
  },
  {
    version: 3,
    name: "the contract major each stage spoke in a run",
    statements: ["ALTER TABLE run_stages ADD COLUMN contract_major INTEGER"],
  },
];
