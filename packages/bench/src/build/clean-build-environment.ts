// The environment for builds in a throwaway clone. Inherited npm_* variables (set by the `pnpm`
// that started the bench) would configure the nested pnpm as if it ran inside this workspace, and
// a remote-cache token would make a "cold" build warm. Both are removed; telemetry is off.
// The workspace's own bin folder goes first on PATH: pnpm is pinned there as a devDependency, so
// `node packages/bench/dist/bin.js` builds with the same pnpm as `pnpm bench` does.

import { delimiter, join } from "node:path";

/** This checkout's node_modules/.bin (the bench runs from packages/bench/dist or src). */
export const WORKSPACE_BIN = join(__dirname, "..", "..", "..", "..", "node_modules", ".bin");

const DROPPED_PREFIXES = ["npm_", "PNPM_", "TURBO_"];
const DROPPED_NAMES = new Set(["INIT_CWD"]);

export function cleanBuildEnvironment(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(base)) {
    if (DROPPED_NAMES.has(name) || DROPPED_PREFIXES.some((prefix) => name.startsWith(prefix))) continue;
    env[name] = value;
  }
  env.PATH = [WORKSPACE_BIN, base.PATH].filter(Boolean).join(delimiter);
  env.TURBO_TELEMETRY_DISABLED = "1";
  env.DO_NOT_TRACK = "1";
  // Let PNPM_HOME through: it is where a globally installed pnpm finds itself, not configuration.
  if (base.PNPM_HOME !== undefined) env.PNPM_HOME = base.PNPM_HOME;
  return env;
}
