import type { Migration } from "./migration";

/** The PostgreSQL schema's steps, with every table qualified by the store's schema name. */
export function postgresMigrations(schema: string): readonly Migration[] {
  const s = `"${schema}"`;
  return [
    {
      version: 1,
      name: "checkpoints, runs, run stages and services",
      statements: [
        `CREATE TABLE ${s}.checkpoints (
          pipeline TEXT NOT NULL,
          source_id TEXT NOT NULL,
          position BYTEA NOT NULL,
          description TEXT NOT NULL,
          run_id TEXT NOT NULL,
          sequence BIGINT NOT NULL,
          committed_at TIMESTAMPTZ NOT NULL,
          PRIMARY KEY (pipeline, source_id)
        )`,
        `CREATE TABLE ${s}.runs (
          seq BIGSERIAL PRIMARY KEY,
          run_id TEXT NOT NULL UNIQUE,
          pipeline TEXT NOT NULL,
          pipeline_file TEXT NOT NULL,
          status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'stopped')),
          started_at TIMESTAMPTZ NOT NULL,
          ended_at TIMESTAMPTZ,
          error TEXT,
          pid INTEGER NOT NULL,
          host TEXT NOT NULL,
          heartbeat_at TIMESTAMPTZ NOT NULL
        )`,
        `CREATE INDEX runs_by_pipeline ON ${s}.runs (pipeline, seq)`,
        `CREATE TABLE ${s}.run_stages (
          run_id TEXT NOT NULL REFERENCES ${s}.runs (run_id) ON DELETE CASCADE,
          stage_id TEXT NOT NULL,
          ordinal INTEGER NOT NULL,
          events_in BIGINT NOT NULL,
          events_out BIGINT NOT NULL,
          dead_letters BIGINT NOT NULL,
          restarts BIGINT NOT NULL,
          errors BIGINT NOT NULL,
          health TEXT NOT NULL,
          updated_at TIMESTAMPTZ NOT NULL,
          PRIMARY KEY (run_id, stage_id)
        )`,
        `CREATE TABLE ${s}.services (
          instance_id TEXT PRIMARY KEY,
          name TEXT NOT NULL,
          address TEXT NOT NULL,
          component JSONB NOT NULL,
          ttl_seconds INTEGER NOT NULL,
          registered_at TIMESTAMPTZ NOT NULL,
          last_heartbeat_at TIMESTAMPTZ NOT NULL,
          expires_at TIMESTAMPTZ NOT NULL,
          UNIQUE (name, address)
        )`,
        `CREATE INDEX services_by_expiry ON ${s}.services (expires_at)`,
      ],
    },
    {
      version: 2,
      name: "one running run per pipeline, and who took over an abandoned one",
      statements: [
        `ALTER TABLE ${s}.runs ADD COLUMN superseded_by TEXT`,
        // Before the claim was atomic two runs could both be "running"; the unique index below needs
        // one at most, so all but the newest are closed (the newest is the one that may still run).
        `UPDATE ${s}.runs AS r SET status = 'failed', ended_at = r.heartbeat_at,
           error = 'abandoned: a newer run of the pipeline was running when runs became exclusive'
         WHERE r.status = 'running'
           AND r.seq < (SELECT MAX(o.seq) FROM ${s}.runs o WHERE o.pipeline = r.pipeline AND o.status = 'running')`,
        // The claim's guarantee in the schema itself: at most one running run per pipeline.
        `CREATE UNIQUE INDEX runs_one_running_per_pipeline ON ${s}.runs (pipeline) WHERE status = 'running'`,
      ],
    },
    {
      version: 3,
      name: "the contract major each stage spoke in a run",
      statements: [`ALTER TABLE ${s}.run_stages ADD COLUMN contract_major INTEGER`],
    },
  ];
}
