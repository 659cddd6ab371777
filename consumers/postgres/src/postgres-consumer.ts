import { join } from "node:path";
import { type ConsumerDefinition, readPackageVersion } from "@flow/sdk";
import { EventRows, SqlBatchWriter, serverName, tableConfigIssues } from "@flow/sql-rows";
import { postgresServerIssues } from "./postgres-checks";
import { type PostgresConsumerConfig, postgresConsumerConfigSchema } from "./postgres-consumer-config";
import { postgresErrors } from "./postgres-errors";
import { openPostgresSession } from "./postgres-session";
import { createTableSql } from "./postgres-table";

export const postgresConsumer: ConsumerDefinition<PostgresConsumerConfig> = {
  name: "flow-consumer-postgres",
  version: readPackageVersion(join(__dirname, "..")),
  description:
    "Writes one PostgreSQL row per event, one transaction per batch, keyed by event id so redelivered events add no row; WRITTEN after COMMIT",
  configSchema: postgresConsumerConfigSchema,
  features: { ordering: "total", idempotent: true },

  async validate(config, context) {
    const issues = tableConfigIssues(config);
    // Core validates before every run; a stream's start only checks the configuration itself, so
    // a server that is down when a service restarts makes batches retryable, not the stream fail.
    if (!context.validateOnly || issues.length > 0) return issues;
    return postgresServerIssues(config, postgresServer(config.url));
  },

  open(config) {
    const rows = new EventRows(config);
    const writer = new SqlBatchWriter(
      rows,
      () =>
        openPostgresSession({
          ...config,
          shape: rows.shape,
          createTableSql: config.createTable ? createTableSql(config, rows.shape) : undefined,
        }),
      postgresErrors,
      postgresServer(config.url),
    );
    // No flush: each write resolves after its COMMIT (Core never flushes for durability).
    return { write: (events) => writer.write(events), close: () => writer.close() };
  },
};

function postgresServer(url: string): string {
  return serverName("PostgreSQL", url, 5432);
}
