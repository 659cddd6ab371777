import { join, resolve } from "node:path";
import {
  type ConfigIssue,
  type ConsumerDefinition,
  canWrite,
  creatableFileIssues,
  errorIssue,
  readPackageVersion,
  statOrUndefined,
} from "@flow/sdk";
import Database from "better-sqlite3";
import { type SqliteConsumerConfig, sqliteConsumerConfigSchema } from "./sqlite-consumer-config";
import { missingColumns, SqliteEventTable } from "./sqlite-event-table";

export const sqliteConsumer: ConsumerDefinition<SqliteConsumerConfig> = {
  name: "flow-consumer-sqlite",
  version: readPackageVersion(join(__dirname, "..")),
  description:
    "Writes one SQLite row per event, keyed by event id, so redelivered events add no duplicate row",
  configSchema: sqliteConsumerConfigSchema,
  features: { ordering: "total", idempotent: true },

  validate(config) {
    return checkDatabase(resolve(config.path), config);
  },

  open(config) {
    const table = SqliteEventTable.open({ ...config, path: resolve(config.path) });
    // No flush: each write's COMMIT is durable before the SDK answers WRITTEN (Core never flushes).
    return {
      write: (events) => {
        table.write(events);
      },
      close: () => table.close(),
    };
  },
};

/** Every reason the table cannot be written, each at the config path it concerns. Changes nothing. */
async function checkDatabase(path: string, config: SqliteConsumerConfig): Promise<ConfigIssue[]> {
  const issues: ConfigIssue[] = [];
  if (config.table.toLowerCase().startsWith("sqlite_")) {
    issues.push(errorIssue("/table", `table names beginning with "sqlite_" are reserved by SQLite`));
  }
  const existing = await statOrUndefined(path);
  if (!existing) return [...issues, ...(await creatableFileIssues("/path", path, config.createDirectories))];
  if (!existing.isFile()) return [...issues, errorIssue("/path", `${path} exists and is not a file`)];
  if (!(await canWrite(path)))
    return [...issues, errorIssue("/path", `cannot write ${path}: permission denied`)];
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    db.prepare("SELECT count(*) FROM sqlite_master").get();
    const missing = missingColumns(db, config.table);
    if (missing.length > 0) {
      issues.push(
        errorIssue(
          "/table",
          `table ${config.table} in ${path} exists without the column(s) ${missing.join(", ")}; choose another table`,
        ),
      );
    }
  } catch (error) {
    issues.push(errorIssue("/path", `${path} is not a usable SQLite database: ${(error as Error).message}`));
  } finally {
    db?.close();
  }
  return issues;
}
