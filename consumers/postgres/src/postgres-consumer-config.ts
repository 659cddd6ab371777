import type { JsonSchema } from "@flow/sdk";
import { type SqlTableConfig, sqlTableConfigProperties, sqlTimeoutConfigProperties } from "@flow/sql-rows";

export interface PostgresConsumerConfig extends SqlTableConfig {
  /** postgres://user:password@host:port/database (libpq URL parameters such as sslmode work). */
  url: string;
  /** Batches of at least this many rows go through COPY into a temporary table and one merge. */
  copyThreshold: number;
  connectTimeoutMs: number;
  statementTimeoutMs: number;
}

/** Measured (README, "COPY or INSERT"): COPY and its merge overtake one multi-row INSERT from about here. */
export const DEFAULT_COPY_THRESHOLD = 500;

export const postgresConsumerConfigSchema: JsonSchema = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  title: "flow-consumer-postgres configuration",
  type: "object",
  additionalProperties: false,
  required: ["url", "table"],
  properties: {
    url: {
      type: "string",
      pattern: "^postgres(ql)?://",
      description:
        "The database, postgres://user:password@host:port/database (URL parameters such as sslmode=require are passed on).",
    },
    ...sqlTableConfigProperties(
      "id text, type text, source text, time timestamptz, attributes jsonb, data jsonb, data_binary bytea",
    ),
    copyThreshold: {
      type: "integer",
      minimum: 1,
      default: DEFAULT_COPY_THRESHOLD,
      description:
        "A batch of at least this many rows is written with COPY into a temporary table and one INSERT ... SELECT ... ON CONFLICT; smaller ones with one multi-row INSERT.",
    },
    ...sqlTimeoutConfigProperties,
  },
};
