import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import {
  type ConfigIssue,
  type ConsumerDefinition,
  errorIssue,
  PermanentError,
  RetryableError,
} from "@flow/sdk";
import { cloudEventJsonLine } from "./cloudevent-json-line";
import { type FileConsumerConfig, fileConsumerConfigSchema } from "./file-consumer-config";
import { JsonLinesFile } from "./json-lines-file";
import { packageVersion } from "./package-version";

export const fileConsumer: ConsumerDefinition<FileConsumerConfig> = {
  name: "flow-consumer-file",
  version: packageVersion,
  description: "Appends events to a JSON Lines file, one CloudEvent (JSON format) per line",
  configSchema: fileConsumerConfigSchema,
  features: { ordering: "total", idempotent: false },

  validate(config) {
    return checkWritable(resolve(config.path), config.createDirectories);
  },

  async open(config) {
    const file = await JsonLinesFile.open(resolve(config.path), {
      createDirectories: config.createDirectories,
    });
    return {
      async write(events) {
        let text: string;
        try {
          text = events.map(cloudEventJsonLine).join("");
        } catch (error) {
          throw new PermanentError(`an event cannot be written as a CloudEvent: ${(error as Error).message}`);
        }
        try {
          await file.append(text);
          if (config.fsync === "batch") await file.sync();
        } catch (error) {
          // A full disk or an I/O error may clear up; a torn line is closed before the retry.
          throw new RetryableError(`cannot append to ${file.path}: ${(error as Error).message}`);
        }
      },
      flush: () => file.sync(),
      close: () => file.close(),
    };
  },
};

/** Every reason the file cannot be appended to, as an issue at /path naming the path. */
async function checkWritable(path: string, createDirectories: boolean): Promise<ConfigIssue[]> {
  const existing = await statOrUndefined(path);
  if (existing) {
    if (!existing.isFile()) return [errorIssue("/path", `${path} exists and is not a regular file`)];
    return (await canWrite(path)) ? [] : [errorIssue("/path", `cannot write ${path}: permission denied`)];
  }
  // The file will be created: the nearest folder that exists must let us create entries.
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
    if (
      (error as NodeJS.ErrnoException).code === "ENOENT" ||
      (error as NodeJS.ErrnoException).code === "ENOTDIR"
    )
      return undefined;
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
