import { isAbsolute, resolve } from "node:path";
import type { StateStoreSettings } from "./pipeline-model";

/**
 * `sqlite:<path>` (relative to the pipeline file's folder; `sqlite:///abs` and `sqlite::memory:`
 * also work) or `postgres://...` / `postgresql://...`, passed on unchanged. Undefined for anything else.
 */
export function resolveStateStoreUrl(url: string, baseDir: string): StateStoreSettings | undefined {
  if (/^postgres(ql)?:\/\/./.test(url)) return { kind: "postgres", url };
  if (!url.startsWith("sqlite:")) return undefined;
  let rest = url.slice("sqlite:".length);
  // The URL form sqlite:///abs/path names an absolute path; sqlite://rel is read as relative.
  if (rest.startsWith("//")) rest = rest.slice(2);
  if (rest === "") return undefined;
  if (rest === ":memory:") return { kind: "sqlite", url: "sqlite::memory:", path: ":memory:" };
  const path = isAbsolute(rest) ? rest : resolve(baseDir, rest);
  return { kind: "sqlite", url: `sqlite:${path}`, path };
}
