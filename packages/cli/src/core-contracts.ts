import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { readLock } from "@flow/prototools";

export interface SpokenContract {
  name: string;
  major: number;
  /** The exact release vendored into Core, e.g. "1.0.1"; absent for Core's own contracts. */
  version?: string;
}

/**
 * The contracts Flow Core speaks, read from what it is built from - the `<name>/v<major>/`
 * folders of its proto/ (vendored copies and its own registry contract), with the exact release
 * from its proto-pins.lock.yaml - never from a list typed by hand: a new major vendored beside
 * the old one shows up here.
 */
export function coreContracts(
  coreDir = dirname(require.resolve("@flow/core/package.json")),
): SpokenContract[] {
  const protoDir = join(coreDir, "proto");
  const versions = new Map((readLock(coreDir, "") ?? []).map((entry) => [entry.path, entry.version]));
  const contracts: SpokenContract[] = [];
  for (const name of existsSync(protoDir) ? readdirSync(protoDir).sort() : []) {
    if (!existsSync(join(protoDir, name)) || name.includes(".")) continue;
    for (const folder of readdirSync(join(protoDir, name))) {
      const major = /^v(\d+)$/.exec(folder)?.[1];
      if (major === undefined) continue;
      const version = versions.get(`proto/${name}/${folder}`);
      contracts.push({ name, major: Number(major), ...(version ? { version } : {}) });
    }
  }
  return contracts.sort((a, b) => a.name.localeCompare(b.name) || a.major - b.major);
}

/** `flow --version`: the CLI's own version, then every contract major Core speaks. */
export function versionText(cliVersion: string, contracts: readonly SpokenContract[]): string {
  const list = (services: boolean) =>
    contracts
      .filter((contract) => contract.name.endsWith("_service") === services)
      .map((c) => `${c.name} v${c.major}${c.version ? ` (${c.version})` : ""}`)
      .join(", ") || "none";
  return `flow ${cliVersion}\nservice contracts: ${list(true)}\nshared types: ${list(false)}`;
}
