import type { JsonSchema } from "@flow/sdk";
import { type SqlTableConfig, sqlTableConfigProperties } from "@flow/sql-rows";

export interface MysqlConsumerConfig extends SqlTableConfig {
  /** mysql://user:password@host:port/database */
  url: string;
  connectTimeoutMs: number;
  statementTimeoutMs: number;
}

export const mysqlConsumerConfigSchema: JsonSchema = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  title: "flow-consumer-mysql configuration",
  type: "object",
  additionalProperties: false,
  required: ["url", "table"],
  properties: {
    url: {
      type: "string",
      pattern: "^(mysql|mariadb)://",
      description: "The database, mysql://user:password@host:port/database (mariadb:// is the same).",
    },
    ...sqlTableConfigProperties(
      "id varchar(512), type text, source text, time datetime(6) (UTC), attributes json, data json, data_binary longblob",
    ),
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
  },
};
