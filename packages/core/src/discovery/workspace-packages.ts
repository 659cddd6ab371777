import { existsSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { FLOW_CLI, PNPM_CLI, UserError } from "@flow/errors";
import { parse } from "yaml";
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
    // A pattern naming a folder that does not exist (yet) lists nothing, as pnpm treats it.
    const dirs = pattern.endsWith("/*")
      ? !existsSync(join(root, pattern.slice(0, -2)))
        ? []
        : readdirSync(join(root, pattern.slice(0, -2)), { withFileTypes: true })
            .filter((entry) => entry.isDirectory())
            .map((entry) => join(root, pattern.slice(0, -2), entry.name))
      : [join(root, pattern)];
    for (const dir of dirs) {
      const name = packageNameOf(dir);
      if (name) found.set(name, dir);
    }
  }
  return found;
}

/** The folders from `start` up to the file system's root. */
function foldersUpFrom(start: string): string[] {
  const folders: string[] = [];
  let dir = resolve(start);
  for (;;) {
    folders.push(dir);
    const parent = dirname(dir);
    if (parent === dir) return folders;
    dir = parent;
  }
}

function packageNameOf(dir: string): string | undefined {
  const manifest = join(dir, "package.json");
  if (!existsSync(manifest)) return undefined;
  try {
    return (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name;
  } catch {
    return undefined; // an unreadable package.json names nothing
  }
}

/**
 * The folder of an installed package, found the way Node finds one: `node_modules/<name>` in the
 * folder or any folder above it. npm's flat layout and pnpm's symlinked one both put a direct
 * dependency there; the real path is returned, so the service runs from its own folder.
 */
export function findInstalledPackage(name: string, fromDir: string): string | undefined {
  for (const dir of foldersUpFrom(fromDir)) {
    const candidate = join(dir, "node_modules", ...name.split("/"));
    if (existsSync(join(candidate, "package.json"))) return realpathSync(candidate);
  }
  return undefined;
}

/** The nearest package.json at or above `fromDir`, when it is the package `name` itself. */
function findOwnPackage(name: string, fromDir: string): string | undefined {
  for (const dir of foldersUpFrom(fromDir)) {
    if (existsSync(join(dir, "package.json"))) return packageNameOf(dir) === name ? dir : undefined;
  }
  return undefined;
}

/** Service packages installed in the nearest node_modules above `fromDir`, for did-you-mean hints. */
function installedServicePackages(fromDir: string): string[] {
  for (const dir of foldersUpFrom(fromDir)) {
    const modules = join(dir, "node_modules");
    if (!existsSync(modules)) continue;
    const names: string[] = [];
    for (const entry of readdirSync(modules)) {
      if (!entry.startsWith("@")) names.push(entry);
      else for (const scoped of readdirSync(join(modules, entry))) names.push(`${entry}/${scoped}`);
    }
    return names.filter(isServicePackageName);
  }
  return [];
}

function isServicePackageName(name: string): boolean {
  return /(^|\/|-)(source|processor|consumer)-/.test(name);
}

/**
 * Resolves `use: <package>` to the program to spawn, with errors that say what to do. A package is
 * looked for, in order: among the packages of the pnpm workspace above `fromDir` (this repository);
 * as the package `fromDir` belongs to (a pipeline kept beside a service in its own repository); and
 * in `node_modules` at or above `fromDir` (a service installed with npm or pnpm).
 */
export function resolveServicePackage(name: string, fromDir: string): WorkspacePackage {
  const root = findWorkspaceRoot(fromDir);
  const workspace = root ? listWorkspacePackages(root) : new Map<string, string>();
  const dir = workspace.get(name) ?? findOwnPackage(name, fromDir) ?? findInstalledPackage(name, fromDir);
  if (!dir) {
    const services = [...new Set([...workspace.keys(), ...installedServicePackages(fromDir)])]
      .filter(isServicePackageName)
      .sort();
    const guess = closestMatch(name, services);
    const hint = guess
      ? `did you mean "${guess}"?`
      : services.length > 0
        ? `service packages: ${services.join(", ")}`
        : root
          ? `create one with: ${FLOW_CLI} new <family> <name>`
          : `install it beside the pipeline (npm install ${name}), or use \`command:\` to name the program to spawn`;
    throw new UserError(
      root
        ? `use: "${name}" is not a package of the workspace at ${root}, nor installed in node_modules`
        : `use: "${name}" is not installed: no node_modules/${name} at or above ${fromDir}`,
      { hint },
    );
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
      hint: workspace.has(name) ? `build it: ${PNPM_CLI} build` : `build it: npm run build (in ${dir})`,
    });
  }
  return { name, dir, entry };
}
