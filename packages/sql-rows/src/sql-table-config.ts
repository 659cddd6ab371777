import { expressionTimeoutSchema } from "@flow/expression";
import type { JsonSchema } from "@flow/sdk";

/** A column filled from the event by a JSONata expression; `type` is used only by createTable. */
export interface MappedColumn {
  expression: string;
  type?: string;
}

/** The part of a SQL consumer's configuration that says which table and which row an event becomes. */
export interface SqlTableConfig {
  /** `table` or `schema.table` (a database in MariaDB/MySQL); each part is quoted, so case matters. */
  table: string;
  createTable: boolean;
  /** Absent: the fixed event columns. Present: exactly these columns, each from an expression. */
  columns?: Record<string, string | MappedColumn>;
  /** The unique key a redelivered event collides on. */
  key: string[];
  /** On a key collision: keep the stored row (`nothing`) or overwrite its other columns (`update`). */
  onConflict: "nothing" | "update";
  /** Longest evaluation of one column expression, in milliseconds. */
  timeoutMs: number;
}

/** A plain SQL identifier, so that a name never needs more than quoting. */
export const SQL_IDENTIFIER_PATTERN = "^[A-Za-z_][A-Za-z0-9_]{0,62}$";
/** An identifier, optionally qualified by a schema (PostgreSQL) or a database (MariaDB/MySQL). */
export const SQL_TABLE_PATTERN = "^[A-Za-z_][A-Za-z0-9_]{0,62}(\\.[A-Za-z_][A-Za-z0-9_]{0,62})?$";
/** A column type for CREATE TABLE: words, digits, spaces, parentheses and commas (no `;`, no quotes). */
export const SQL_TYPE_PATTERN = "^[A-Za-z][A-Za-z0-9_ ]*(\\([0-9, ]+\\))?( ?\\[\\])?$";

/**
 * The JSON Schema properties of SqlTableConfig, the same in every SQL consumer; `fixedColumns`
 * describes that consumer's fixed columns and their types.
 */
export function sqlTableConfigProperties(fixedColumns: string): Record<string, JsonSchema> {
  return {
    table: {
      type: "string",
      pattern: SQL_TABLE_PATTERN,
      description:
        "The table, or schema.table: letters, digits and _, each part quoted (so case matters and keywords such as order are fine).",
    },
    createTable: {
      type: "boolean",
      default: false,
      description:
        "Create the table (and nothing else) when it is missing; false: a missing table is a configuration error.",
    },
    columns: {
      type: "object",
      minProperties: 1,
      propertyNames: { pattern: SQL_IDENTIFIER_PATTERN },
      additionalProperties: {
        oneOf: [
          { type: "string", minLength: 1 },
          {
            type: "object",
            additionalProperties: false,
            required: ["expression"],
            properties: {
              expression: { type: "string", minLength: 1 },
              type: { type: "string", pattern: SQL_TYPE_PATTERN },
            },
          },
        ],
      },
      description: `Column name -> JSONata expression over the event (the language of the filter and map processors), or { expression, type } where type is what createTable declares. Absent: the fixed columns ${fixedColumns}.`,
    },
    key: {
      type: "array",
      items: { type: "string", pattern: SQL_IDENTIFIER_PATTERN },
      minItems: 1,
      uniqueItems: true,
      default: ["id"],
      description:
        "The columns of the table's unique key that make a redelivered event collide with its stored row (the event id by default).",
    },
    onConflict: {
      enum: ["nothing", "update"],
      default: "nothing",
      description:
        "On a key collision: nothing keeps the stored row; update overwrites its other columns with the new values (an upsert).",
    },
    timeoutMs: expressionTimeoutSchema,
  };
}

/** The columns a row has, and which of them are the key and which an upsert overwrites. */
export interface RowShape {
  columns: string[];
  key: string[];
  /** The columns an `update` conflict overwrites (none for `nothing`). */
  updated: string[];
}

export function rowShape(config: SqlTableConfig, fixedColumns: readonly string[]): RowShape {
  const columns = config.columns ? Object.keys(config.columns) : [...fixedColumns];
  const updated = config.onConflict === "update" ? columns.filter((name) => !config.key.includes(name)) : [];
  return { columns, key: config.key, updated };
}

/** A JSON Pointer to one config member, escaped as RFC 6901 says. */
export function configPointer(...segments: string[]): string {
  return segments.map((segment) => `/${segment.replace(/~/g, "~0").replace(/\//g, "~1")}`).join("");
}

/** `schema.table` as its two parts; the schema is undefined for a bare name. */
export function tableParts(table: string): { schema?: string; name: string } {
  const dot = table.indexOf(".");
  return dot < 0 ? { name: table } : { schema: table.slice(0, dot), name: table.slice(dot + 1) };
}

/** The connection timeouts every SQL consumer's configuration has, as JSON Schema properties. */
export const sqlTimeoutConfigProperties: Record<string, JsonSchema> = {
  connectTimeoutMs: {
    type: "integer",
    minimum: 1,
    default: 10000,
    description: "How long connecting may take before the batch is answered retryable.",
  },
  statementTimeoutMs: {
    type: "integer",
    minimum: 1,
    default: 30000,
    description:
      "A statement (or COMMIT) without an answer within this time fails the batch as retryable and the connection is opened anew.",
  },
};
