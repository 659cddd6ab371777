import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  BatchByteLimit,
  type ConfigIssue,
  errorIssue,
  type FlowEvent,
  PermanentError,
  readPackageVersion,
  type SourceDefinition,
  serviceLogger,
} from "@flow/sdk";
import type { FileChange } from "./file-change";
import { encodeCheckpoint } from "./file-checkpoint";
import { type FileSourceConfig, fileSourceConfigSchema, type InvalidLinePolicy } from "./file-source-config";
import { LineEvents } from "./line-events";
import type { Line } from "./line-reader";
import { OpenFile } from "./open-file";
import { handleReplacedFile } from "./replaced-file-policy";

const NAME = "flow-source-file";
const log = serviceLogger(NAME);

export const fileSource: SourceDefinition<FileSourceConfig> = {
  name: NAME,
  version: readPackageVersion(join(__dirname, "..")),
  description:
    "Reads a JSON Lines file (payloads or CloudEvents) and resumes from the byte offset of its checkpoint, unless the file was replaced",
  configSchema: fileSourceConfigSchema,
  features: { checkpointing: true, ordering: "total" },

  validate(config) {
    return checkReadableFile(resolve(config.path));
  },

  async *read(config, context) {
    const path = resolve(config.path);
    const changed = (change: FileChange, offset: number): void =>
      handleReplacedFile(config.replacedFile, change, { path, offset, stageId: context.stageId }, log);
    let file = await OpenFile.open(path, context.checkpoint, config.follow, changed);
    try {
      const lines = new LineEvents(config, path);
      const batchSize = context.maxBatchSize > 0 ? context.maxBatchSize : config.batchSize;
      const limit = new BatchByteLimit(context);
      while (!context.signal.aborted) {
        // Begins with the event the batch before could not take, read already.
        const events = limit.startBatch();
        let atEnd = false;
        let cutBefore: Line | undefined;
        while (events.length < batchSize) {
          const next = await file.next();
          if (next === undefined) {
            atEnd = true;
            break;
          }
          const { line, id } = next;
          const event = eventOfLine(lines, line, id, config.invalidLines, { path, stageId: context.stageId });
          if (event === undefined) continue;
          if (!limit.admits(event)) {
            cutBefore = line;
            break;
          }
          events.push(event);
        }
        // Skipped lines alone make no batch: they are skipped again after a resume, harmlessly.
        if (events.length > 0) {
          const checkpoint =
            cutBefore === undefined ? await file.checkpoint() : await file.checkpointBefore(cutBefore);
          yield { events, checkpoint: encodeCheckpoint(checkpoint, path) };
        }
        if (!atEnd) continue;
        if (!config.follow) return;
        const change = await file.changeWhileFollowed(path);
        if (change !== undefined) {
          // Everything the old file had is read; a rotated or truncated file goes on from its start.
          changed(change, file.position);
          await file.close();
          file = await OpenFile.open(path, undefined, config.follow, changed);
          continue;
        }
        try {
          await sleep(config.pollIntervalMs, undefined, { signal: context.signal });
        } catch {
          return;
        }
      }
    } finally {
      await file.close();
    }
  },
};

/** The event a line makes, or undefined for a line skipped by `invalidLines: skip`. */
function eventOfLine(
  lines: LineEvents,
  line: Line,
  id: string,
  policy: InvalidLinePolicy,
  where: { path: string; stageId: string },
): FlowEvent | undefined {
  const result = lines.fromLine(line, id);
  if ("event" in result) return result.event;
  const { path, stageId } = where;
  switch (policy) {
    case "emit":
      return lines.invalidLineEvent(line, id, result.invalid);
    case "skip":
      log.warn({ stage: stageId, path, offset: line.offset }, `skipped a line: ${result.invalid}`);
      return undefined;
    case "fail":
      // The same line fails every read again: no restart can get past it.
      throw new PermanentError(`${path} at byte ${line.offset}: ${result.invalid}`);
  }
}

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
