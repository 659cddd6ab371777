import { existsSync } from "node:fs";
import { formatLocation, locatePipelineField, openStateStore, type Pipeline } from "@flow/core";
import { isUserError, UserError } from "@flow/errors";
import { whyNotWritable } from "./writable-path";

// What a pipeline file names outside itself, checked before anything is recorded or started, and
// reported at the line of the file that names it.

/** The dead-letter file must be writable (or creatable): found at the first dead letter, a run would crash half-way. */
export function checkDeadLetterPath(pipeline: Pipeline): UserError | undefined {
  const path = pipeline.deadLetters.path;
  const reason = whyNotWritable(path);
  if (!reason) return undefined;
  return fieldError(pipeline, ["deadLetters", "path"], `deadLetters.path: cannot write ${path}: ${reason}`, {
    hint: "set deadLetters.path to a file in a folder Flow can write to (relative paths are relative to the pipeline file)",
  });
}

/**
 * The state store must be usable, without creating it just to look: a SQLite file that does not
 * exist yet needs a folder it can be created in; one that exists, or a PostgreSQL server, is
 * opened and closed again.
 */
export async function checkStateStore(pipeline: Pipeline): Promise<UserError | undefined> {
  const state = pipeline.state;
  if (state.kind === "sqlite" && state.path === ":memory:") return undefined;
  if (state.kind === "sqlite") {
    const reason = whyNotWritable(state.path);
    if (reason) {
      return fieldError(pipeline, ["state", "url"], `state.url: cannot write ${state.path}: ${reason}`, {
        hint: "point state.url at a file in a folder Flow can write to, e.g. sqlite:.flow/state.db",
      });
    }
    if (!existsSync(state.path)) return undefined;
  }
  try {
    const store = await openStateStore(state.url, { baseDir: pipeline.baseDir, connectTimeoutMs: 5000 });
    await store.close();
    return undefined;
  } catch (error) {
    const hint = isUserError(error) ? error.hint : undefined;
    const message = error instanceof Error ? error.message : String(error);
    return fieldError(pipeline, ["state", "url"], `state.url: ${message}`, hint ? { hint } : {});
  }
}

function fieldError(
  pipeline: Pipeline,
  pointer: string[],
  message: string,
  options: { hint?: string },
): UserError {
  return new UserError(`${formatLocation(locatePipelineField(pipeline, pointer))}: ${message}`, options);
}
