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
import { JsonLinesFile, TornAppendError } from "./json-lines-file";

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
          // Durable before the SDK answers WRITTEN: Core commits checkpoints on that ack, never flushes.
          await file.appendDurably(text);
        } catch (error) {
          throw appendFailure(file.path, error as Error);
        }
      },
      close: () => file.close(),
    };
  },
};

/**
 * A full disk or an I/O error may clear up, so a failed append is retryable. It normally left the
 * file as it was, and the retry writes every event once; the reason says when it could not.
 */
function appendFailure(path: string, error: Error): RetryableError {
  const code = ((error.cause ?? error) as { code?: unknown }).code;
  const kept =
    error instanceof TornAppendError
      ? "the file may end in part of the batch, a line the next append closes"
      : "nothing of the batch was kept";
  const fix =
    code === "ENOSPC" || code === "EDQUOT"
      ? "free space on the disk that holds it; the batch is retried"
      : "the batch is retried";
  return new RetryableError(`cannot append to ${path}: ${error.message} (${kept}; ${fix})`, { cause: error });
}

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
