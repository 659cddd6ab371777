import { type ConfigIssue, errorIssue, warningIssue } from "@flow/sdk";
import { configPointer, EVENT_COLUMNS, type ExistingTable, rowShape, tableShapeIssues } from "@flow/sql-rows";
import type pg from "pg";
import type { PostgresConsumerConfig } from "./postgres-consumer-config";
import { postgresErrors } from "./postgres-errors";
import { closeClient, postgresClient } from "./postgres-session";
import { createTableSql, quotedTable } from "./postgres-table";

/** Validate-only waits no longer than this for the server, whatever connectTimeoutMs says. */
const CHECK_TIMEOUT_MS = 5000;

/**
 * Reaches the server and reports, each at its config path, what would keep the batches from being
 * written: an unreachable server, bad credentials or database (/url); a missing table without
 * createTable, or one that cannot be created, or that this user may not write (/table); a mapped
 * column the table lacks (/columns/<name>); no unique key on the key (/key). Changes nothing:
 * the CREATE TABLE it tries runs in a transaction it rolls back.
 */
export async function postgresServerIssues(
  config: PostgresConsumerConfig,
  server: string,
): Promise<ConfigIssue[]> {
  const timeoutMs = Math.min(config.connectTimeoutMs, CHECK_TIMEOUT_MS);
  const client = postgresClient(config.url, { connectTimeoutMs: timeoutMs, statementTimeoutMs: timeoutMs });
  try {
    await client.connect();
  } catch (error) {
    await closeClient(client);
    return [errorIssue("/url", `cannot connect to ${server}: ${postgresErrors.describe(error)}`)];
  }
  try {
    const existing = await existingTable(client, config.table);
    const issues = tableShapeIssues(config, existing, { database: server, ignoreCase: false });
    if (!existing && config.createTable) issues.push(...(await creatableIssues(client, config)));
    if (existing) issues.push(...(await privilegeIssues(client, config)));
    const { rows } = await client.query<{ synchronous_commit: string }>("SHOW synchronous_commit");
    if (rows[0]?.synchronous_commit === "off") {
      issues.push(
        warningIssue(
          "/url",
          `${server} runs with synchronous_commit = off: a COMMIT returns before it is on disk, so a crash of the server can lose batches answered WRITTEN; set synchronous_commit to on for this user or database`,
        ),
      );
    }
    return issues;
  } catch (error) {
    return [errorIssue("/url", `cannot check ${server}: ${postgresErrors.describe(error)}`)];
  } finally {
    await closeClient(client);
  }
}

async function existingTable(client: pg.Client, table: string): Promise<ExistingTable | undefined> {
  const found = await client.query<{ oid: number | null }>("SELECT to_regclass($1)::oid AS oid", [
    quotedTable(table),
  ]);
  const oid = found.rows[0]?.oid;
  if (oid === null || oid === undefined) return undefined;
  const columns = await client.query<{ name: string }>(
    "SELECT attname::text AS name FROM pg_attribute WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
    [oid],
  );
  const keys = await client.query<{ columns: string[] }>(
    `SELECT array(SELECT a.attname::text FROM unnest(i.indkey) AS k(attnum)
                   JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum) AS columns
       FROM pg_index i
      WHERE i.indrelid = $1 AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL`,
    [oid],
  );
  return { columns: columns.rows.map((row) => row.name), uniqueKeys: keys.rows.map((row) => row.columns) };
}

/** Tries the CREATE TABLE in a transaction it rolls back: a bad column type or no CREATE privilege shows now. */
async function creatableIssues(client: pg.Client, config: PostgresConsumerConfig): Promise<ConfigIssue[]> {
  await client.query("BEGIN");
  try {
    await client.query(createTableSql(config, rowShape(config, EVENT_COLUMNS)));
    return [];
  } catch (error) {
    const reason = postgresErrors.describe(error);
    // A type the server does not know is the fault of that column's `type`.
    const typed = Object.entries(config.columns ?? {}).find(
      ([, column]) => typeof column === "object" && column.type && reason.includes(`"${column.type}"`),
    );
    const path = typed ? configPointer("columns", typed[0], "type") : "/table";
    return [errorIssue(path, `cannot create table ${config.table}: ${reason}`)];
  } finally {
    await client.query("ROLLBACK");
  }
}

async function privilegeIssues(client: pg.Client, config: PostgresConsumerConfig): Promise<ConfigIssue[]> {
  const needed = config.onConflict === "update" ? ["INSERT", "UPDATE"] : ["INSERT"];
  const { rows } = await client.query<{ user: string; missing: string[] }>(
    "SELECT current_user AS user, array(SELECT p FROM unnest($2::text[]) AS p WHERE NOT has_table_privilege($1, p)) AS missing",
    [quotedTable(config.table), needed],
  );
  const row = rows[0];
  if (!row || row.missing.length === 0) return [];
  return [
    errorIssue(
      "/table",
      `user ${row.user} lacks the ${row.missing.join(" and ")} privilege on table ${config.table}`,
    ),
  ];
}
