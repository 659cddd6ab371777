import type { JsonSchema } from "@flow/sdk";
import { type SqlTableConfig, sqlTableConfigProperties, sqlTimeoutConfigProperties } from "@flow/sql-rows";

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
    ...sqlTimeoutConfigProperties,
  },
};
