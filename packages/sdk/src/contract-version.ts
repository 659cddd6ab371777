import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import type { ContractVersion } from "./component";

interface LockEntry {
  name?: string;
  version?: string;
}

/**
 * The exact version of a contract a package vendored, read from its proto-pins.lock.yaml, so a
 * service reports what it really speaks. Falls back to `<major>.0.0` when there is no lock (a
 * service built outside a Flow repository).
 */
export function vendoredContractVersion(packageDir: string, name: string, major: number): ContractVersion {
  const lock = join(packageDir, "proto-pins.lock.yaml");
  if (existsSync(lock)) {
    const entries = (parse(readFileSync(lock, "utf8")) as { vendored?: LockEntry[] } | null)?.vendored ?? [];
    for (const entry of entries) {
      const [entryMajor, minor, patch] = (entry.version ?? "").split(".").map(Number);
      if (entry.name === name && entryMajor === major) {
        return { name, major, minor: minor ?? 0, patch: patch ?? 0 };
      }
    }
  }
  return { name, major, minor: 0, patch: 0 };
}
