import { type FSWatcher, watch } from "node:fs";
import { basename, dirname } from "node:path";
import { loadPipeline, type Pipeline, type PipelineRunner, stageConfigError } from "@flow/core";
import { formatUserError, isUserError } from "@flow/errors";
import type { Logger } from "pino";

/** Editors write a file in several steps (truncate, write, rename): changes this close are one. */
const SETTLE_MS = 200;

export interface ReloaderOptions {
  /** The pipeline file, absolute. */
  file: string;
  runner: PipelineRunner;
  logger: Logger;
  /** Watch the file and reload when it changes (`flow run --watch`); SIGHUP reloads either way. */
  watchFile: boolean;
}

/**
 * Reloads a running pipeline from its file on SIGHUP and, with `--watch`, whenever the file
 * changes: the new file is loaded and checked like `flow run` does, and handed to the runner,
 * which keeps the unchanged stages running and drains and replaces the rest. A file that does
 * not load, or that the runner refuses, is reported and ignored: the pipeline runs on as it was.
 * Returns the function that stops listening.
 */
export function listenForReload(options: ReloaderOptions): () => void {
  const { file, runner, logger } = options;
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;

  const reload = async (trigger: string): Promise<void> => {
    let next: Pipeline;
    try {
      next = loadPipeline(file);
    } catch (error) {
      logger.error(
        { trigger, problem: isUserError(error) ? formatUserError(error) : (error as Error).message },
        "reload refused: the pipeline file has problems; the pipeline runs on unchanged",
      );
      return;
    }
    const result = await runner.reload(next, (problem) =>
      stageConfigError(next, problem.stageId, problem.pointer ?? "", problem.message),
    );
    if (result.applied) {
      logger.warn({ trigger, ...result.changes }, "reload applied");
    } else {
      const error = result.error;
      logger.error(
        { trigger, problem: error && isUserError(error) ? formatUserError(error) : error?.message },
        "reload refused; the pipeline runs on unchanged",
      );
    }
  };
  const soon = (trigger: string): void => {
    clearTimeout(timer);
    timer = setTimeout(() => void reload(trigger), SETTLE_MS);
  };
  const onHangup = (): void => soon("SIGHUP");
  process.on("SIGHUP", onHangup);
  if (options.watchFile) {
    // The folder, not the file: an editor that saves by renaming a new file over it would end a
    // watch on the file itself.
    const name = basename(file);
    watcher = watch(dirname(file), (_event, changed) => {
      if (changed === name) soon("file changed");
    });
  }
  return () => {
    clearTimeout(timer);
    watcher?.close();
    process.off("SIGHUP", onHangup);
  };
}
