import { type EventColumn, type RowShape, type SqlTableConfig, tableParts } from "@flow/sql-rows";

export function quoteIdentifier(name: string): string {
  return `\`${name.replace(/`/g, "``")}\``;
}

/** `database.table` quoted part by part. */
export function quotedTable(table: string): string {
  const { schema, name } = tableParts(table);
  return schema === undefined ? quoteIdentifier(name) : `${quoteIdentifier(schema)}.${quoteIdentifier(name)}`;
}

/**
 * 512 characters of utf8mb4 are 2,048 bytes, inside InnoDB's 3,072-byte index key limit; a longer
 * id is refused by the server (a dead letter with its reason), never cut.
 */
const EVENT_COLUMN_TYPES: Record<EventColumn, string> = {
  id: "varchar(512) NOT NULL",
  type: "text NOT NULL",
  source: "text NOT NULL",
  time: "datetime(6)",
  attributes: "json NOT NULL",
  data: "json",
  data_binary: "longblob",
};

/**
 * The CREATE TABLE of createTable: InnoDB (transactions), utf8mb4 with a binary collation so that
 * ids that differ only in case ("A", "a") are different keys, as they are different events.
 */
export function createTableSql(
  config: SqlTableConfig,
  shape: RowShape,
  name = quotedTable(config.table),
): string {
  const columns = shape.columns.map((column) => {
    const mapped = config.columns?.[column];
    const type =
      mapped === undefined
        ? EVENT_COLUMN_TYPES[column as EventColumn]
        : (typeof mapped === "object" && mapped.type) ||
          (shape.key.includes(column) ? "varchar(512)" : "longtext");
    return `  ${quoteIdentifier(column)} ${type}`;
  });
  return `CREATE TABLE IF NOT EXISTS ${name} (\n${columns.join(",\n")},\n  PRIMARY KEY (${shape.key.map(quoteIdentifier).join(", ")})\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`;
}
