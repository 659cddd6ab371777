import { PermanentError } from "@flow/sdk";
import pg from "pg";
import { type Lsn, parseLsn } from "./lsn";
import { connectPostgres } from "./postgres-client";
import type { PostgresSourceConfig } from "./postgres-source-config";

/** What the server says about logical replication for a cdc configuration, read on a plain connection. */
export interface ReplicationFacts {
  walLevel: string;
  /** The session's role may open a replication connection (REPLICATION or superuser). */
  mayReplicate: boolean;
  /** The role may CREATE in the database (what CREATE PUBLICATION needs). */
  mayCreateInDatabase: boolean;
  publicationExists: boolean;
  slot?: { plugin: string; database: string; confirmedFlush?: Lsn };
  database: string;
}

export async function replicationFacts(
  client: pg.Client,
  config: PostgresSourceConfig,
): Promise<ReplicationFacts> {
  const facts = await client.query<{
    wal_level: string;
    may_replicate: boolean;
    may_create: boolean;
    publication: boolean;
    database: string;
  }>(
    `SELECT current_setting('wal_level') AS wal_level,
            (SELECT rolsuper OR rolreplication FROM pg_roles WHERE rolname = current_user) AS may_replicate,
            has_database_privilege(current_database(), 'CREATE') AS may_create,
            EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $1) AS publication,
            current_database() AS database`,
    [config.publication ?? ""],
  );
  const slots = await client.query<{ plugin: string; database: string; confirmed_flush_lsn: string | null }>(
    "SELECT plugin, database, confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1",
    [config.slot ?? ""],
  );
  const row = facts.rows[0];
  if (!row) throw new Error("the server answered nothing about its settings");
  const slot = slots.rows[0];
  return {
    walLevel: row.wal_level,
    mayReplicate: row.may_replicate,
    mayCreateInDatabase: row.may_create,
    publicationExists: row.publication,
    database: row.database,
    ...(slot
      ? {
          slot: {
            plugin: slot.plugin,
            database: slot.database,
            ...(slot.confirmed_flush_lsn ? { confirmedFlush: parseLsn(slot.confirmed_flush_lsn) } : {}),
          },
        }
      : {}),
  };
}

/** What keeps a configuration from streaming, each with the field it is at. */
export function replicationProblems(
  facts: ReplicationFacts,
  config: PostgresSourceConfig,
): { pointer: string; message: string }[] {
  const problems: { pointer: string; message: string }[] = [];
  if (facts.walLevel !== "logical")
    problems.push({
      pointer: "/mode",
      message: `the server has wal_level=${facts.walLevel}; cdc needs wal_level=logical (ALTER SYSTEM SET wal_level = logical, then restart the server)`,
    });
  if (!facts.mayReplicate)
    problems.push({
      pointer: "/url",
      message: "the user of /url may not open a replication connection (ALTER ROLE ... REPLICATION)",
    });
  if (!facts.publicationExists && !config.createPublication)
    problems.push({
      pointer: "/publication",
      message: `publication ${config.publication} does not exist in database ${facts.database} (CREATE PUBLICATION ${config.publication} FOR TABLE ..., or set createPublication: true with tables)`,
    });
  else if (!facts.publicationExists && !facts.mayCreateInDatabase)
    problems.push({
      pointer: "/createPublication",
      message: `the user of /url may not create publication ${config.publication} (it needs CREATE on database ${facts.database})`,
    });
  if (!facts.slot && !config.createSlot)
    problems.push({
      pointer: "/slot",
      message: `replication slot ${config.slot} does not exist (SELECT pg_create_logical_replication_slot('${config.slot}', 'pgoutput'), or set createSlot: true)`,
    });
  else if (facts.slot && facts.slot.plugin !== "pgoutput")
    problems.push({
      pointer: "/slot",
      message: `replication slot ${config.slot} decodes with ${facts.slot.plugin || "no plugin (a physical slot)"}; this source needs a logical slot with pgoutput`,
    });
  else if (facts.slot && facts.slot.database !== facts.database)
    problems.push({
      pointer: "/slot",
      message: `replication slot ${config.slot} belongs to database ${facts.slot.database}, not ${facts.database} of /url`,
    });
  return problems;
}

/** The tables of `tables` the server lacks or the user does not own (what CREATE PUBLICATION ... FOR TABLE needs). */
export async function publicationTableProblems(
  client: pg.Client,
  tables: string[],
): Promise<{ index: number; message: string }[]> {
  const problems: { index: number; message: string }[] = [];
  for (const [index, table] of tables.entries()) {
    const found = await client.query<{ owned: boolean }>(
      `SELECT pg_has_role(c.relowner, 'USAGE') AS owned FROM pg_class c WHERE c.oid = to_regclass($1)`,
      [table],
    );
    const row = found.rows[0];
    if (!row) problems.push({ index, message: `table ${table} does not exist` });
    else if (!row.owned)
      problems.push({
        index,
        message: `the user of /url does not own table ${table}, so may not publish it`,
      });
  }
  return problems;
}

/**
 * Before a stream: checks the server as validate-only does, creates the publication and the slot
 * when asked to and missing, and says where the slot stands (its confirmed flush position).
 */
export async function prepareReplication(config: PostgresSourceConfig): Promise<{ confirmedFlush?: Lsn }> {
  const client = await connectPostgres(config.url, { applicationName: "flow-source-postgres setup" });
  try {
    const facts = await replicationFacts(client, config);
    const [problem] = replicationProblems(facts, config);
    if (problem) throw new PermanentError(`${problem.pointer}: ${problem.message}`);
    const publication = config.publication ?? "";
    const slot = config.slot ?? "";
    if (!facts.publicationExists) {
      const tables = config.tables ?? [];
      const missing = await publicationTableProblems(client, tables);
      if (missing[0]) throw new PermanentError(`/tables/${missing[0].index}: ${missing[0].message}`);
      const names = await client.query<{ name: string }>(
        "SELECT format('%I.%I', n.nspname, c.relname) AS name FROM unnest($1::text[]) AS t(table_name) JOIN pg_class c ON c.oid = to_regclass(t.table_name) JOIN pg_namespace n ON n.oid = c.relnamespace",
        [tables],
      );
      await client
        .query(
          `CREATE PUBLICATION ${pg.escapeIdentifier(publication)} FOR TABLE ${names.rows.map((row) => row.name).join(", ")}`,
        )
        .catch((error: { code?: string }) => {
          // Another run created it meanwhile: what was asked for exists.
          if (error.code !== "42710") throw error;
        });
    }
    if (!facts.slot) {
      await client
        .query("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [slot])
        .catch((error: { code?: string }) => {
          if (error.code !== "42710") throw error;
        });
      return await slotPosition(client, slot);
    }
    return {
      ...(facts.slot.confirmedFlush !== undefined ? { confirmedFlush: facts.slot.confirmedFlush } : {}),
    };
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function slotPosition(client: pg.Client, slot: string): Promise<{ confirmedFlush?: Lsn }> {
  const found = await client.query<{ confirmed_flush_lsn: string | null }>(
    "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1",
    [slot],
  );
  const text = found.rows[0]?.confirmed_flush_lsn;
  return text ? { confirmedFlush: parseLsn(text) } : {};
}
