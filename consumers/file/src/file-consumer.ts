import { join, resolve } from "node:path";
import {
  type ConfigIssue,
  type ConsumerDefinition,
  canWrite,
  cloudEventJsonLine,
  creatableFileIssues,
  errorIssue,
  PermanentError,
  RetryableError,
  readPackageVersion,
  statOrUndefined,
} from "@flow/sdk";
import { type FileConsumerConfig, fileConsumerConfigSchema } from "./file-consumer-config";
import { JsonLinesFile } from "./json-lines-file";

export const fileConsumer: ConsumerDefinition<FileConsumerConfig> = {
  name: "flow-consumer-file",
  version: readPackageVersion(join(__dirname, "..")),
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
  return creatableFileIssues("/path", path, createDirectories);
}
