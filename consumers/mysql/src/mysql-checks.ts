import { randomBytes } from "node:crypto";
import { type ConfigIssue, errorIssue, warningIssue } from "@flow/sdk";
import {
  configPointer,
  EVENT_COLUMNS,
  type ExistingTable,
  rowShape,
  tableParts,
  tableShapeIssues,
} from "@flow/sql-rows";
import type mysql from "mysql2/promise";
import type { MysqlConsumerConfig } from "./mysql-consumer-config";
import { mysqlErrors } from "./mysql-errors";
import { dropConnection, mysqlConnection } from "./mysql-session";
import { createTableSql, quoteIdentifier } from "./mysql-table";
import { answeredWithin } from "./statement-timeout";

/** Validate-only waits no longer than this for the server, whatever connectTimeoutMs says. */
const CHECK_TIMEOUT_MS = 5000;
const CHECK_LIMIT = `${CHECK_TIMEOUT_MS} ms (validate-only waits no longer for the server)`;

interface TableFacts extends ExistingTable {
  engine: string | null;
  /** Key columns compared case-insensitively by their collation. */
  caseInsensitiveKey: string[];
}

/**
 * Reaches the server and reports, each at its config path: an unreachable server, bad
 * credentials or an unknown database (/url); a missing table without createTable, a table that
 * cannot be created or whose engine has no transactions (/table); a mapped column the table lacks
 * (/columns/<name>), a type the server refuses (/columns/<name>/type); no unique key on the key
 * (/key). Warns when the key compares case-insensitively or COMMIT is not flushed to disk.
 * Changes nothing: a CREATE TABLE is tried on a TEMPORARY table it drops again.
 */
export async function mysqlServerIssues(config: MysqlConsumerConfig, server: string): Promise<ConfigIssue[]> {
  let connection: mysql.Connection;
  try {
    connection = await mysqlConnection(
      config.url,
      config.connectTimeoutMs > CHECK_TIMEOUT_MS
        ? { connectTimeoutMs: CHECK_TIMEOUT_MS, limit: CHECK_LIMIT }
        : { connectTimeoutMs: config.connectTimeoutMs },
    );
  } catch (error) {
    return [errorIssue("/url", `cannot connect to ${server}: ${mysqlErrors.describe(error)}`)];
  }
  try {
    const facts = await tableFacts(connection, config.table, config.key);
    const issues = tableShapeIssues(config, facts, { database: server, ignoreCase: true });
    if (!facts && config.createTable) issues.push(...(await creatableIssues(connection, config)));
    if (facts?.engine && facts.engine.toLowerCase() !== "innodb") {
      issues.push(
        errorIssue(
          "/table",
          `table ${config.table} uses the ${facts.engine} engine, which has no transactions: a batch could be half written; use InnoDB (ALTER TABLE ... ENGINE=InnoDB)`,
        ),
      );
    }
    if (facts && facts.caseInsensitiveKey.length > 0) {
      issues.push(
        warningIssue(
          "/key",
          `key column(s) ${facts.caseInsensitiveKey.join(", ")} of ${config.table} compare case-insensitively (a _ci collation): events whose keys differ only in case collide and only one is stored; use a _bin collation`,
        ),
      );
    }
    const [flush] = await query<{ flush: string }>(
      connection,
      "SELECT @@innodb_flush_log_at_trx_commit AS flush",
    );
    if (flush && String(flush.flush) !== "1") {
      issues.push(
        warningIssue(
          "/url",
          `${server} runs with innodb_flush_log_at_trx_commit = ${flush.flush}: a COMMIT returns before its log is flushed to disk, so a crash of the server can lose batches answered WRITTEN; set it to 1`,
        ),
      );
    }
    return issues;
  } catch (error) {
    return [errorIssue("/url", `cannot check ${server}: ${mysqlErrors.describe(error)}`)];
  } finally {
    dropConnection(connection);
  }
}

async function query<T>(connection: mysql.Connection, sql: string, values: unknown[] = []): Promise<T[]> {
  const [rows] = await answeredWithin(connection.query({ sql, values }), CHECK_TIMEOUT_MS, CHECK_LIMIT);
  return rows as T[];
}

async function tableFacts(
  connection: mysql.Connection,
  table: string,
  key: string[],
): Promise<TableFacts | undefined> {
  const { schema, name } = tableParts(table);
  const where = "TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?";
  const [found] = await query<{ engine: string | null }>(
    connection,
    `SELECT ENGINE AS engine FROM information_schema.TABLES WHERE ${where}`,
    [schema ?? null, name],
  );
  if (!found) return undefined;
  const columns = await query<{ name: string; collation: string | null }>(
    connection,
    `SELECT COLUMN_NAME AS name, COLLATION_NAME AS collation FROM information_schema.COLUMNS WHERE ${where} ORDER BY ORDINAL_POSITION`,
    [schema ?? null, name],
  );
  // A unique index on a prefix of a column (SUB_PART) does not make the whole value unique.
  const keyParts = await query<{ index_name: string; column_name: string; sub_part: number | null }>(
    connection,
    `SELECT INDEX_NAME AS index_name, COLUMN_NAME AS column_name, SUB_PART AS sub_part
       FROM information_schema.STATISTICS WHERE ${where} AND NON_UNIQUE = 0 ORDER BY INDEX_NAME, SEQ_IN_INDEX`,
    [schema ?? null, name],
  );
  const indexes = new Map<string, { columns: string[]; whole: boolean }>();
  for (const part of keyParts) {
    const index = indexes.get(part.index_name) ?? { columns: [], whole: true };
    index.columns.push(part.column_name);
    if (part.sub_part !== null) index.whole = false;
    indexes.set(part.index_name, index);
  }
  return {
    engine: found.engine,
    columns: columns.map((column) => column.name),
    uniqueKeys: [...indexes.values()].filter((index) => index.whole).map((index) => index.columns),
    caseInsensitiveKey: columns
      .filter((column) => key.some((part) => part.toLowerCase() === column.name.toLowerCase()))
      .filter((column) => column.collation?.toLowerCase().endsWith("_ci"))
      .map((column) => column.name),
  };
}

/** Tries the CREATE TABLE on a TEMPORARY table of the same definition (DDL here cannot be rolled back). */
async function creatableIssues(
  connection: mysql.Connection,
  config: MysqlConsumerConfig,
): Promise<ConfigIssue[]> {
  const { schema } = tableParts(config.table);
  const probe = `${schema === undefined ? "" : `${quoteIdentifier(schema)}.`}${quoteIdentifier(`flow_check_${randomBytes(6).toString("hex")}`)}`;
  const sql = createTableSql(config, rowShape(config, EVENT_COLUMNS), probe).replace(
    /^CREATE TABLE IF NOT EXISTS/,
    "CREATE TEMPORARY TABLE",
  );
  try {
    await query(connection, sql);
    await query(connection, `DROP TEMPORARY TABLE ${probe}`);
    return [];
  } catch (error) {
    const reason = mysqlErrors.describe(error);
    // A type the server refuses is the fault of that column's `type`.
    const typed = Object.entries(config.columns ?? {}).find(
      ([, column]) => typeof column === "object" && column.type && reason.includes(column.type),
    );
    const path = typed ? configPointer("columns", typed[0], "type") : "/table";
    return [errorIssue(path, `cannot create table ${config.table}: ${reason}`)];
  }
}
