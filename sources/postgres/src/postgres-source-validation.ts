import { type ConfigIssue, errorIssue, redactedUrl, warningIssue } from "@flow/sdk";
import type pg from "pg";
import { connectPostgres } from "./postgres-client";
import { modeIssues, type PostgresSourceConfig } from "./postgres-source-config";
import { publicationTableProblems, replicationFacts, replicationProblems } from "./replication-setup";
import { resolveTable } from "./table-reader";

/**
 * The configuration's checks beyond the schema: each mode's required fields always; with
 * validate-only, the real server too, each problem at the field it comes from. At a stream's start
 * the server is left to the stream, where an outage is retried rather than refused as a bad
 * configuration.
 */
export async function validatePostgresSource(
  config: PostgresSourceConfig,
  context: { validateOnly: boolean },
): Promise<ConfigIssue[]> {
  const missing = modeIssues(config);
  if (missing.length > 0 || !context.validateOnly) return missing;
  let client: pg.Client;
  try {
    client = await connectPostgres(config.url, {
      applicationName: "flow-source-postgres validate",
      connectTimeoutMs: 3000,
    });
  } catch (error) {
    return [errorIssue("/url", `cannot connect to ${redactedUrl(config.url)}: ${describe(error)}`)];
  }
  try {
    return config.mode === "query" ? await queryIssues(client, config) : await cdcIssues(client, config);
  } catch (error) {
    return [errorIssue("/url", `cannot check ${redactedUrl(config.url)}: ${describe(error)}`)];
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function queryIssues(client: pg.Client, config: PostgresSourceConfig): Promise<ConfigIssue[]> {
  const cursorColumns = config.cursorColumns ?? [];
  const table = await resolveTable(client, config.table ?? "", cursorColumns);
  if (!table)
    return [errorIssue("/table", `table ${config.table} does not exist in ${redactedUrl(config.url)}`)];
  const issues = table.missingColumns.map((column) =>
    errorIssue(
      `/cursorColumns/${cursorColumns.indexOf(column)}`,
      `table ${table.name} has no column ${column}`,
    ),
  );
  const readable = await client.query<{ allowed: boolean }>(
    "SELECT has_table_privilege($1, 'SELECT') AS allowed",
    [table.name],
  );
  if (!readable.rows[0]?.allowed)
    issues.push(errorIssue("/table", `the user of /url may not SELECT from ${table.name} (GRANT SELECT)`));
  const nullable = await client.query<{ column: string }>(
    `SELECT attname AS column FROM pg_attribute
      WHERE attrelid = $1::regclass AND attname = ANY($2) AND NOT attnotnull`,
    [table.name, cursorColumns],
  );
  for (const { column } of nullable.rows)
    issues.push(
      warningIssue(
        `/cursorColumns/${cursorColumns.indexOf(column)}`,
        `column ${column} of ${table.name} may be NULL: rows with NULL in a cursor column are never read`,
      ),
    );
  return issues;
}

async function cdcIssues(client: pg.Client, config: PostgresSourceConfig): Promise<ConfigIssue[]> {
  const facts = await replicationFacts(client, config);
  const issues = replicationProblems(facts, config).map(({ pointer, message }) =>
    errorIssue(pointer, message),
  );
  if (!facts.publicationExists && config.createPublication)
    for (const { index, message } of await publicationTableProblems(client, config.tables ?? []))
      issues.push(errorIssue(`/tables/${index}`, message));
  return issues;
}

function describe(error: unknown): string {
  const message = (error as Error).message || (error as { code?: string }).code || String(error);
  return message;
}
