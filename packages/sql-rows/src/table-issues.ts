import { compileExpression } from "@flow/expression";
import { type ConfigIssue, errorIssue } from "@flow/sdk";
import { EVENT_COLUMNS } from "./event-columns";
import { columnExpression } from "./event-rows";
import { configPointer, rowShape, type SqlTableConfig } from "./sql-table-config";

/**
 * What is wrong with the table part of a configuration without asking the database: a column
 * expression that does not compile (at `/columns/<name>`), a key column the row does not have
 * (at `/key/<i>`).
 */
export function tableConfigIssues(config: SqlTableConfig): ConfigIssue[] {
  const issues = Object.entries(config.columns ?? {}).flatMap(
    ([name, column]) =>
      compileExpression(columnExpression(column), configPointer("columns", name), config).issues,
  );
  const { columns } = rowShape(config, EVENT_COLUMNS);
  config.key.forEach((name, index) => {
    if (!columns.includes(name)) {
      issues.push(
        errorIssue(
          configPointer("key", String(index)),
          `key column ${name} is not one of the row's columns (${columns.join(", ")})`,
        ),
      );
    }
  });
  return issues;
}

/** What the database says of an existing table. */
export interface ExistingTable {
  columns: string[];
  /** The column sets of the primary key and of every unique index without a predicate. */
  uniqueKeys: string[][];
}

/**
 * What keeps the table from taking the rows, found in what the database said of it: missing
 * (unless createTable), a mapped column it lacks (at `/columns/<name>`), fixed columns it lacks
 * (at `/table`), no unique key on exactly the configured key (at `/key`). `ignoreCase` for
 * databases whose column names are case-insensitive (MariaDB/MySQL).
 */
export function tableShapeIssues(
  config: SqlTableConfig,
  existing: ExistingTable | undefined,
  where: { database: string; ignoreCase: boolean },
): ConfigIssue[] {
  if (!existing) {
    return config.createTable
      ? []
      : [
          errorIssue(
            "/table",
            `table ${config.table} does not exist in ${where.database}: create it, or set createTable: true`,
          ),
        ];
  }
  const normal = (name: string): string => (where.ignoreCase ? name.toLowerCase() : name);
  const present = new Set(existing.columns.map(normal));
  const issues: ConfigIssue[] = [];
  const { columns, key } = rowShape(config, EVENT_COLUMNS);
  const missing = columns.filter((name) => !present.has(normal(name)));
  if (config.columns) {
    for (const name of missing) {
      issues.push(
        errorIssue(
          configPointer("columns", name),
          `table ${config.table} in ${where.database} has no column ${name}`,
        ),
      );
    }
  } else if (missing.length > 0) {
    issues.push(
      errorIssue(
        "/table",
        `table ${config.table} in ${where.database} exists without the column(s) ${missing.join(", ")}: choose another table, or map columns with "columns"`,
      ),
    );
  }
  const wanted = [...key].map(normal).sort().join(",");
  const keyed = existing.uniqueKeys.some((unique) => [...unique].map(normal).sort().join(",") === wanted);
  if (missing.length === 0 && !keyed) {
    issues.push(
      errorIssue(
        "/key",
        `table ${config.table} in ${where.database} has no primary key or unique index on exactly (${key.join(", ")}); a redelivered event is found by it, so add one or set key to the columns of one`,
      ),
    );
  }
  return issues;
}
