import { parseStateStoreUrl } from "../state/state-store-url";
import type { StateStoreSettings } from "./pipeline-model";

/**
 * The pipeline file's `state.url`, resolved the way the state store will open it (one parser:
 * state/state-store-url.ts): `sqlite:<path>` relative to the pipeline file's folder,
 * `sqlite:///abs`, `sqlite::memory:`, or `postgres://...` / `postgresql://...` passed on unchanged
 * (the store checks those when it opens them, with errors of its own). Undefined for anything else,
 * and for a bare `sqlite:`, which in a file is a path left out rather than a request for the default.
 */
export function resolveStateStoreUrl(url: string, baseDir: string): StateStoreSettings | undefined {
  if (/^postgres(ql)?:\/\/./.test(url)) return { kind: "postgres", url };
  if (!url.startsWith("sqlite:") || /^sqlite:(\/\/)?$/.test(url.trim())) return undefined;
  let location: ReturnType<typeof parseStateStoreUrl>;
  try {
    location = parseStateStoreUrl(url, baseDir);
  } catch {
    return undefined;
  }
  if (location.kind !== "sqlite") return undefined;
  if (location.file === ":memory:") return { kind: "sqlite", url: "sqlite::memory:", path: ":memory:" };
  return { kind: "sqlite", url: `sqlite:${location.file}`, path: location.file };
}
