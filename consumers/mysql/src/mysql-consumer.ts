import { join } from "node:path";
import { type ConsumerDefinition, readPackageVersion } from "@flow/sdk";
import { EventRows, SqlBatchWriter, serverName, tableConfigIssues } from "@flow/sql-rows";
import { mysqlServerIssues } from "./mysql-checks";
import { type MysqlConsumerConfig, mysqlConsumerConfigSchema } from "./mysql-consumer-config";
import { mysqlErrors } from "./mysql-errors";
import { openMysqlSession } from "./mysql-session";
import { createTableSql } from "./mysql-table";

export const mysqlConsumer: ConsumerDefinition<MysqlConsumerConfig> = {
  name: "flow-consumer-mysql",
  version: readPackageVersion(join(__dirname, "..")),
  description:
    "Writes one MariaDB/MySQL row per event, one transaction per batch, keyed by event id so redelivered events add no row; WRITTEN after COMMIT",
  configSchema: mysqlConsumerConfigSchema,
  features: { ordering: "total", idempotent: true },

  async validate(config, context) {
    const issues = tableConfigIssues(config);
    // Core validates before every run; a stream's start only checks the configuration itself, so
    // a server that is down when a service restarts makes batches retryable, not the stream fail.
    if (!context.validateOnly || issues.length > 0) return issues;
    return mysqlServerIssues(config, mysqlServer(config.url));
  },

  open(config) {
    const rows = new EventRows(config);
    const writer = new SqlBatchWriter(
      rows,
      () =>
        openMysqlSession({
          ...config,
          shape: rows.shape,
          fixedColumns: config.columns === undefined,
          createTableSql: config.createTable ? createTableSql(config, rows.shape) : undefined,
        }),
      mysqlErrors,
      mysqlServer(config.url),
    );
    // No flush: each write resolves after its COMMIT (Core never flushes for durability).
    return { write: (events) => writer.write(events), close: () => writer.close() };
  },
};

function mysqlServer(url: string): string {
  return serverName("MariaDB/MySQL", url, 3306);
}
