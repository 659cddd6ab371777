import { type EventColumn, type RowShape, type SqlTableConfig, tableParts } from "@flow/sql-rows";

/** Names are validated by the config schema; quoting keeps keywords (order, user) and case. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** `schema.table` quoted part by part. */
export function quotedTable(table: string): string {
  const { schema, name } = tableParts(table);
  return schema === undefined ? quoteIdentifier(name) : `${quoteIdentifier(schema)}.${quoteIdentifier(name)}`;
}

const EVENT_COLUMN_TYPES: Record<EventColumn, string> = {
  id: "text NOT NULL",
  type: "text NOT NULL",
  source: "text NOT NULL",
  time: "timestamptz",
  attributes: "jsonb NOT NULL",
  data: "jsonb",
  data_binary: "bytea",
};

/** The CREATE TABLE of createTable: the fixed columns, or the mapped ones (text unless typed), keyed by `key`. */
export function createTableSql(config: SqlTableConfig, shape: RowShape): string {
  const columns = shape.columns.map((name) => {
    const mapped = config.columns?.[name];
    const type =
      mapped === undefined
        ? EVENT_COLUMN_TYPES[name as EventColumn]
        : (typeof mapped === "object" && mapped.type) || "text";
    return `  ${quoteIdentifier(name)} ${type}`;
  });
  return `CREATE TABLE IF NOT EXISTS ${quotedTable(config.table)} (\n${columns.join(",\n")},\n  PRIMARY KEY (${shape.key.map(quoteIdentifier).join(", ")})\n)`;
}
