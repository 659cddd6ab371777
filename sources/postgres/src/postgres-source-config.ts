import { type ConfigIssue, errorIssue, type JsonSchema } from "@flow/sdk";

export interface PostgresSourceConfig {
  mode: "query" | "cdc";
  url: string;
  /** query: the table read, as SQL names it (`orders`, `shop.orders`). */
  table?: string;
  /** query: the columns whose values, in this order, only ever grow: the keyset and checkpoint. */
  cursorColumns?: string[];
  pollIntervalMs: number;
  /** cdc: the logical replication slot. */
  slot?: string;
  /** cdc: the publication that says which tables' changes the slot streams. */
  publication?: string;
  createSlot: boolean;
  createPublication: boolean;
  /** cdc: the tables of a publication created by createPublication. */
  tables?: string[];
  statusIntervalMs: number;
  source?: string;
}

export const DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres";

export const postgresSourceConfigSchema: JsonSchema = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  title: "flow-source-postgres configuration",
  type: "object",
  additionalProperties: false,
  required: ["mode"],
  properties: {
    mode: {
      enum: ["query", "cdc"],
      description:
        'How changes are read: "query" polls a table by its cursor columns, "cdc" streams inserts, updates and deletes by logical replication (pgoutput).',
    },
    url: {
      type: "string",
      default: DEFAULT_POSTGRES_URL,
      pattern: "^postgres(ql)?://",
      description:
        "The server and database, postgres://[user[:password]@]host[:port]/database[?sslmode=...].",
    },
    table: {
      type: "string",
      minLength: 1,
      description: 'query mode: the table to read, as SQL names it ("orders", "shop.orders").',
    },
    cursorColumns: {
      type: "array",
      minItems: 1,
      uniqueItems: true,
      items: { type: "string", minLength: 1 },
      description:
        'query mode: columns whose values together only ever grow and identify a row version, compared in this order, e.g. ["updated_at", "id"]; NOT NULL, ideally with an index on them.',
    },
    pollIntervalMs: {
      type: "integer",
      minimum: 1,
      default: 1000,
      description: "query mode: how long to wait before looking again once every row has been read.",
    },
    slot: {
      type: "string",
      pattern: "^[a-z0-9_]{1,63}$",
      description: "cdc mode: the logical replication slot (created with pgoutput when createSlot is true).",
    },
    publication: {
      type: "string",
      minLength: 1,
      description: "cdc mode: the publication whose tables are streamed.",
    },
    createSlot: {
      type: "boolean",
      default: false,
      description: "cdc mode: create the slot when it does not exist.",
    },
    createPublication: {
      type: "boolean",
      default: false,
      description: "cdc mode: create the publication, FOR TABLE tables, when it does not exist.",
    },
    tables: {
      type: "array",
      minItems: 1,
      uniqueItems: true,
      items: { type: "string", minLength: 1 },
      description: "cdc mode: the tables of a publication created by createPublication.",
    },
    statusIntervalMs: {
      type: "integer",
      minimum: 100,
      default: 10000,
      description:
        "cdc mode: how often the source tells the server its committed position (a standby status update) while nothing new is committed; keep it below the server's wal_sender_timeout.",
    },
    source: {
      type: "string",
      minLength: 1,
      description: "CloudEvents source of the events (default: /postgres/<database>/<schema>.<table>).",
    },
  },
};

/** The fields each mode needs, each missing one at its pointer (the schema cannot say it plainly). */
export function modeIssues(config: PostgresSourceConfig): ConfigIssue[] {
  const needs =
    config.mode === "query"
      ? (["table", "cursorColumns"] as const)
      : config.createPublication
        ? (["slot", "publication", "tables"] as const)
        : (["slot", "publication"] as const);
  const because =
    config.mode === "query" ? "mode query" : config.createPublication ? "createPublication" : "mode cdc";
  return needs
    .filter((field) => config[field] === undefined)
    .map((field) => errorIssue(`/${field}`, `required property "${field}" is missing (${because} needs it)`));
}

/** The database name in the URL, for event sources and messages. */
export function databaseOf(url: string): string {
  try {
    return decodeURIComponent(new URL(url).pathname.replace(/^\//, "")) || "postgres";
  } catch {
    return "postgres";
  }
}
