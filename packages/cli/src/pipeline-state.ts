import { resolve } from "node:path";
import { loadPipeline, openStateStore, type StateStore } from "@flow/core";

export interface StateOptions {
  /** A state store URL (sqlite:<path> or postgres://...). */
  state?: string;
  /** A pipeline file whose `state` to use. */
  file?: string;
}

/**
 * The state store a command reads: `--state <url>`, else the one a pipeline file names
 * (`-f pipeline.yaml`), else the embedded default in the current folder.
 */
export async function openCommandState(
  options: StateOptions,
): Promise<{ store: StateStore; pipeline?: string }> {
  if (options.state) return { store: await openStateStore(options.state, { baseDir: process.cwd() }) };
  if (options.file) {
    const pipeline = loadPipeline(resolve(options.file));
    return {
      store: await openStateStore(pipeline.state.url, { baseDir: pipeline.baseDir }),
      pipeline: pipeline.name,
    };
  }
  return { store: await openStateStore(undefined, { baseDir: process.cwd() }) };
}
