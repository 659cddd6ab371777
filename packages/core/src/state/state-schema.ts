import Database from "better-sqlite3";
import { SQLITE_MIGRATIONS } from "./sqlite-migrations";

/** Table name to its column names. */
export type TableColumns = ReadonlyMap<string, ReadonlySet<string>>;

let expected: TableColumns | undefined;

/**
 * The tables and columns a store at the latest schema version has. Both stores have the same
 * columns (see state-rows.ts), so this is read once from the SQLite migrations applied to an
 * in-memory database: the migrations stay the one description of the schema.
 */
export function expectedStateTables(): TableColumns {
  if (expected) return expected;
  const db = new Database(":memory:");
  try {
    db.exec(
      "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
    );
    for (const migration of SQLITE_MIGRATIONS)
      for (const statement of migration.statements) db.exec(statement);
    expected = sqliteTableColumns(db);
    return expected;
  } finally {
    db.close();
  }
}

/** The tables and columns of an open SQLite database (sqlite_* internals left out). */
export function sqliteTableColumns(db: Database.Database): TableColumns {
  const rows = db
    .prepare(
      `SELECT m.name AS table_name, c.name AS column_name
       FROM sqlite_master m, pragma_table_info(m.name) c
       WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'`,
    )
    .all() as { table_name: string; column_name: string }[];
  return groupColumns(rows);
}

export function groupColumns(rows: readonly { table_name: string; column_name: string }[]): TableColumns {
  const tables = new Map<string, Set<string>>();
  for (const row of rows) {
    const columns = tables.get(row.table_name) ?? new Set<string>();
    columns.add(row.column_name);
    tables.set(row.table_name, columns);
  }
  return tables;
}

/** What `actual` lacks of the expected schema, as sentences: "table runs is missing", "column runs.pid is missing". */
export function missingSchemaParts(actual: TableColumns): string[] {
  const problems: string[] = [];
  for (const [table, columns] of expectedStateTables()) {
    const found = actual.get(table);
    if (!found) {
      problems.push(`table ${table} is missing`);
      continue;
    }
    for (const column of columns)
      if (!found.has(column)) problems.push(`column ${table}.${column} is missing`);
  }
  return problems;
}
