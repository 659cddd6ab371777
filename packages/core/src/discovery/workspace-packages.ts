import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { UserError } from "@flow/errors";
import { parse } from "yaml";
import { FLOW_CLI, PNPM_CLI } from "../config/cli-invocation";
import { closestMatch } from "../config/did-you-mean";

export interface WorkspacePackage {
  name: string;
  dir: string;
  /** The program Core spawns for `use:` - the package's bin entry. */
  entry: string;
}

/** The nearest folder at or above `start` holding pnpm-workspace.yaml. */
export function findWorkspaceRoot(start: string): string | undefined {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, "pnpm-workspace.yaml"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Every package of the workspace, by name (patterns of the form `dir/*` or `dir`). */
export function listWorkspacePackages(root: string): Map<string, string> {
  const config = parse(readFileSync(join(root, "pnpm-workspace.yaml"), "utf8")) as {
    packages?: string[];
  } | null;
  const found = new Map<string, string>();
  for (const pattern of config?.packages ?? []) {
    const dirs = pattern.endsWith("/*")
      ? readdirSync(join(root, pattern.slice(0, -2)), { withFileTypes: true })
          .filter((entry) => entry.isDirectory())
          .map((entry) => join(root, pattern.slice(0, -2), entry.name))
      : [join(root, pattern)];
    for (const dir of dirs) {
      const manifest = join(dir, "package.json");
      if (!existsSync(manifest)) continue;
      const name = (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name;
      if (name) found.set(name, dir);
    }
  }
  return found;
}

/** Resolves `use: <package>` to the program to spawn, with errors that say what to do. */
export function resolveServicePackage(name: string, fromDir: string): WorkspacePackage {
  const root = findWorkspaceRoot(fromDir);
  if (!root) {
    throw new UserError(`use: "${name}": no pnpm workspace found above ${fromDir}`, {
      hint: "run the pipeline inside the Flow workspace, or use `command:` to name the program to spawn",
    });
  }
  const packages = listWorkspacePackages(root);
  const dir = packages.get(name);
  if (!dir) {
    const services = [...packages.keys()].filter((key) => /\/(source|processor|consumer)-/.test(key)).sort();
    const guess = closestMatch(name, services);
    throw new UserError(`use: "${name}" is not a package of the workspace at ${root}`, {
      hint: guess
        ? `did you mean "${guess}"?`
        : services.length > 0
          ? `service packages: ${services.join(", ")}`
          : `create one with: ${FLOW_CLI} new <family> <name>`,
    });
  }
  const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
    bin?: string | Record<string, string>;
  };
  const bin = typeof manifest.bin === "string" ? manifest.bin : Object.values(manifest.bin ?? {})[0];
  if (!bin) {
    throw new UserError(`use: "${name}" has no "bin" entry in ${join(dir, "package.json")}`, {
      hint: 'a service package names its program: "bin": { "<name>": "dist/main.js" }',
    });
  }
  const entry = join(dir, bin);
  if (!existsSync(entry)) {
    throw new UserError(`use: "${name}" is not built (${entry} is missing)`, {
      hint: `build it: ${PNPM_CLI} build`,
    });
  }
  return { name, dir, entry };
}
