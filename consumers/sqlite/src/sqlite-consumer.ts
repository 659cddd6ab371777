import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { type ConfigIssue, type ConsumerDefinition, errorIssue } from "@flow/sdk";
import Database from "better-sqlite3";
import { packageVersion } from "./package-version";
import { type SqliteConsumerConfig, sqliteConsumerConfigSchema } from "./sqlite-consumer-config";
import { missingColumns, SqliteEventTable } from "./sqlite-event-table";

export const sqliteConsumer: ConsumerDefinition<SqliteConsumerConfig> = {
  name: "flow-consumer-sqlite",
  version: packageVersion,
  description:
    "Writes one SQLite row per event, keyed by event id, so redelivered events add no duplicate row",
  configSchema: sqliteConsumerConfigSchema,
  features: { ordering: "total", idempotent: true },

  validate(config) {
    return checkDatabase(resolve(config.path), config);
  },

  open(config) {
    const table = SqliteEventTable.open({ ...config, path: resolve(config.path) });
    return {
      write: (events) => {
        table.write(events);
      },
      flush: () => table.flush(),
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
  if (!existing) return [...issues, ...(await checkCreatable(path, config.createDirectories))];
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

/** The database will be created: the nearest folder that exists must let us create files. */
async function checkCreatable(path: string, createDirectories: boolean): Promise<ConfigIssue[]> {
  let folder = dirname(path);
  let folderStats = await statOrUndefined(folder);
  if (!folderStats && !createDirectories)
    return [errorIssue("/path", `folder ${folder} does not exist (or set createDirectories: true)`)];
  while (!folderStats && dirname(folder) !== folder) {
    folder = dirname(folder);
    folderStats = await statOrUndefined(folder);
  }
  if (!folderStats?.isDirectory())
    return [errorIssue("/path", `cannot create ${path}: ${folder} is not a folder`)];
  if (!(await canWrite(folder)))
    return [errorIssue("/path", `cannot create ${path}: folder ${folder} is not writable`)];
  return [];
}

async function statOrUndefined(path: string): Promise<Awaited<ReturnType<typeof stat>> | undefined> {
  try {
    return await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw error;
  }
}

async function canWrite(path: string): Promise<boolean> {
  try {
    await access(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
