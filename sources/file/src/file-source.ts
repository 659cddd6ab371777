import { constants } from "node:fs";
import { access, open, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  type ConfigIssue,
  errorIssue,
  type FlowEvent,
  readPackageVersion,
  type SourceDefinition,
  serviceLogger,
} from "@flow/sdk";
import { type FileSourceConfig, fileSourceConfigSchema } from "./file-source-config";
import { LineEvents } from "./line-events";
import { LineReader } from "./line-reader";
import { decodeOffset, encodeOffset } from "./offset-checkpoint";

const NAME = "flow-source-file";
const log = serviceLogger(NAME);

export const fileSource: SourceDefinition<FileSourceConfig> = {
  name: NAME,
  version: readPackageVersion(join(__dirname, "..")),
  description:
    "Reads a JSON Lines file (payloads or CloudEvents) and resumes from the byte offset of its checkpoint",
  configSchema: fileSourceConfigSchema,
  features: { checkpointing: true, ordering: "total" },

  validate(config) {
    return checkReadableFile(resolve(config.path));
  },

  async *read(config, context) {
    const path = resolve(config.path);
    const handle = await open(path, "r");
    try {
      const offset = decodeOffset(context.checkpoint);
      await assertWithinFile(handle, offset, path);
      const reader = new LineReader(handle, offset, config.follow);
      const lines = new LineEvents(config, path);
      const batchSize = context.maxBatchSize > 0 ? context.maxBatchSize : config.batchSize;
      while (!context.signal.aborted) {
        const events: FlowEvent[] = [];
        let atEnd = false;
        while (events.length < batchSize) {
          const line = await reader.next();
          if (line === undefined) {
            atEnd = true;
            break;
          }
          // Blank lines separate nothing in JSON Lines; they are not events and not errors.
          if (line.bytes.every((byte) => byte === 0x20 || byte === 0x09)) continue;
          const result = lines.fromLine(line);
          if ("event" in result) {
            events.push(result.event);
            continue;
          }
          const where = `${path} at byte ${line.offset}`;
          switch (config.invalidLines) {
            case "emit":
              events.push(lines.invalidLineEvent(line, result.invalid));
              break;
            case "skip":
              log.warn(
                { stage: context.stageId, path, offset: line.offset },
                `skipped a line: ${result.invalid}`,
              );
              break;
            case "fail":
              throw new Error(`${where}: ${result.invalid}`);
          }
        }
        // Skipped lines alone make no batch: they are skipped again after a resume, harmlessly.
        if (events.length > 0) yield { events, checkpoint: encodeOffset(reader.position, path) };
        if (!atEnd) continue;
        if (!config.follow) return;
        await assertWithinFile(handle, reader.position, path);
        try {
          await sleep(config.pollIntervalMs, undefined, { signal: context.signal });
        } catch {
          return;
        }
      }
    } finally {
      await handle.close();
    }
  },
};

/** Every reason the file cannot be read, as an issue at /path naming the file. */
async function checkReadableFile(path: string): Promise<ConfigIssue[]> {
  try {
    const stats = await stat(path);
    if (!stats.isFile()) return [errorIssue("/path", `${path} is not a regular file`)];
    await access(path, constants.R_OK);
    return [];
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return [errorIssue("/path", `file not found: ${path}`)];
    if (code === "EACCES") return [errorIssue("/path", `cannot read ${path}: permission denied`)];
    return [errorIssue("/path", `cannot read ${path}: ${(error as Error).message}`)];
  }
}

/** A position past the end means the file was truncated or replaced since the checkpoint was taken. */
async function assertWithinFile(
  handle: Awaited<ReturnType<typeof open>>,
  offset: number,
  path: string,
): Promise<void> {
  const { size } = await handle.stat();
  if (offset > size) {
    throw new Error(
      `${path} is ${size} bytes but the checkpoint is at byte ${offset}: the file was truncated or replaced; reset the stage's checkpoint to read it from the start`,
    );
  }
}
