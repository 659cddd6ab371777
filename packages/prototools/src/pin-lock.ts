import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "@flow/errors";
import { parse, stringify } from "yaml";

/** The lock beside a pin manifest: exactly which release each pin vendored, and its tree id. */
export const LOCK_FILE = "proto-pins.lock.yaml";

export interface LockEntry {
  /** The manifest line this entry satisfies, e.g. `event@^1`. */
  pin: string;
  name: string;
  version: string;
  /** Where the release came from, repository-relative: `proto/event/v1`. */
  source: string;
  commit: string;
  /** The git tree id the vendored copy must have (equal to the release's). */
  tree: string;
  /** Where the copy lives, relative to the manifest's folder: `proto/event/v1`. */
  path: string;
  /**
   * Present when no manifest pin asked for it: the pins whose contracts import it (vendored
   * because a contract cannot be used without what it imports).
   */
  requiredBy?: string[];
}

const HEADER =
  "# Written by `flow proto vendor`, verified by `flow proto vendor --check`. Do not edit by hand.\n";

export function readLock(root: string, dir: string): LockEntry[] | undefined {
  const file = join(root, dir, LOCK_FILE);
  if (!existsSync(file)) return undefined;
  const where = join(dir, LOCK_FILE);
  let data: unknown;
  try {
    data = parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new UserError(`${where}: not valid YAML: ${(error as Error).message}`, {
      hint: `regenerate it: flow proto vendor --force ${dir || "."}`,
    });
  }
  const entries = (data as { vendored?: unknown } | null)?.vendored ?? [];
  if (!Array.isArray(entries)) throw new UserError(`${where}: "vendored" must be a list`);
  for (const [index, entry] of entries.entries()) {
    for (const key of ["pin", "name", "version", "source", "commit", "tree", "path"] as const) {
      if (typeof entry?.[key] !== "string") {
        throw new UserError(`${where}: entry #${index + 1} has no "${key}"`, {
          hint: `regenerate it: flow proto vendor --force ${dir || "."}`,
        });
      }
    }
  }
  return entries as LockEntry[];
}

export function writeLock(root: string, dir: string, entries: LockEntry[]): void {
  const sorted = [...entries].sort((a, b) => a.path.localeCompare(b.path));
  writeFileSync(join(root, dir, LOCK_FILE), HEADER + stringify({ lockfileVersion: 1, vendored: sorted }));
}
