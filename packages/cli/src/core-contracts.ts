import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { CORE_CONTRACTS } from "@flow/core";
import { readLock } from "@flow/prototools";

export interface SpokenContract {
  name: string;
  major: number;
  /** The exact release vendored into Core, e.g. "1.0.1"; absent for Core's own contracts. */
  version?: string;
}

/** The family contracts Core speaks, by family: `CORE_CONTRACTS`, derived from Core's generated code. */
export type FamilyContracts = Readonly<Record<string, { name: string; majors: readonly number[] }>>;

/**
 * The contracts Flow Core speaks, never from a list typed by hand: the family contracts' majors
 * are Core's own `CORE_CONTRACTS` (what negotiation offers, derived from the code Core generated;
 * Core's tests keep it equal to its proto/ folders), the other contracts the `<name>/v<major>/`
 * folders of its proto/ (shared types, its own registry contract); each with the exact release
 * from its proto-pins.lock.yaml. A new major vendored and generated beside the old one shows up here.
 */
export function coreContracts(
  coreDir = dirname(require.resolve("@flow/core/package.json")),
  families: FamilyContracts = CORE_CONTRACTS,
): SpokenContract[] {
  const protoDir = join(coreDir, "proto");
  const versions = new Map((readLock(coreDir, "") ?? []).map((entry) => [entry.path, entry.version]));
  const contract = (name: string, major: number): SpokenContract => {
    const version = versions.get(`proto/${name}/v${major}`);
    return { name, major, ...(version ? { version } : {}) };
  };
  const familyNames = new Set(Object.values(families).map((family) => family.name));
  const contracts = Object.values(families).flatMap(({ name, majors }) =>
    majors.map((major) => contract(name, major)),
  );
  for (const name of existsSync(protoDir) ? readdirSync(protoDir).sort() : []) {
    if (name.includes(".") || familyNames.has(name)) continue;
    for (const folder of readdirSync(join(protoDir, name))) {
      const major = /^v(\d+)$/.exec(folder)?.[1];
      if (major !== undefined) contracts.push(contract(name, Number(major)));
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
