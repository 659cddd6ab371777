import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "@flow/errors";
import { parse } from "yaml";

/** The file at a repository's root that holds its contract conventions. */
export const SETTINGS_FILE = "flow.proto.yaml";
export const DEFAULT_PREFIX = "flow.microservices";

export interface RepoSettings {
  /** Protobuf package prefix: `package <prefix>.<name>.v<major>;` */
  prefix: string;
}

const PACKAGE_PATTERN = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;

/** Throws a UserError unless `prefix` is a valid protobuf package name in lower case. */
export function assertValidPrefix(prefix: string, where: string): void {
  if (!PACKAGE_PATTERN.test(prefix)) {
    throw new UserError(`${where}: prefix "${prefix}" is not a valid protobuf package`, {
      hint: 'use dot-separated lower-case identifiers, e.g. "acme.platform"',
    });
  }
}

/**
 * Reads the repository's settings. `prefixOverride` (from --prefix) wins over the file;
 * without either, the default prefix applies.
 */
export function readRepoSettings(root: string, prefixOverride?: string): RepoSettings {
  if (prefixOverride !== undefined) {
    assertValidPrefix(prefixOverride, "--prefix");
    return { prefix: prefixOverride };
  }
  const file = join(root, SETTINGS_FILE);
  if (!existsSync(file)) return { prefix: DEFAULT_PREFIX };
  let data: unknown;
  try {
    data = parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new UserError(`${SETTINGS_FILE}: not valid YAML: ${(error as Error).message}`);
  }
  const prefix = (data as { prefix?: unknown } | null)?.prefix ?? DEFAULT_PREFIX;
  if (typeof prefix !== "string") {
    throw new UserError(`${SETTINGS_FILE}: prefix must be a string`);
  }
  assertValidPrefix(prefix, SETTINGS_FILE);
  return { prefix };
}
