import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, posix } from "node:path";
import { UserError } from "@flow/errors";
import semver from "semver";
import { parse } from "yaml";
import { type CommandScope, openCommandContext, repoPath } from "./command-context";
import { importedMajorsOfFolder } from "./contract-imports";
import { parsePin } from "./pin";
import { writeManifest } from "./pin-manifest";
import { type ServiceFamily, serviceTemplates } from "./service-templates";
import { type VendorAction, vendorDir } from "./vendoring";

export const SERVICE_FAMILIES = ["source", "processor", "consumer"] as const;

export interface NewServiceOptions extends CommandScope {
  family: string;
  /** kebab-case: lower-case letters and digits in words joined by "-". */
  name: string;
  /** The folder to create the package in; the family folder (`sources/`, ...) by default. */
  parent?: string;
  /** npm scope of the package name (default "@flow"). */
  scope?: string;
}

export interface NewServiceResult {
  /** Repository-relative package folder. */
  dir: string;
  packageName: string;
  files: string[];
  vendored: VendorAction[];
  /** False when the package folder is not matched by pnpm-workspace.yaml. */
  inWorkspace: boolean;
  /** True when the repository's formatter (biome) formatted the new files. */
  formatted: boolean;
}

const NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
// The files of a Flow workspace the package's configs extend or call.
const WORKSPACE_FILES = ["tsconfig.base.json", "jest.base.js", "buf.gen.yaml", "scripts/vendor.mjs"];

/**
 * `flow new source|processor|consumer <name>`: a workspace package in the family folder with the
 * family contract (and the shared types it imports) pinned and vendored, a minimal working
 * service, its test and README. Nothing is written when a check fails.
 */
export function scaffoldService(options: NewServiceOptions): NewServiceResult {
  if (!(SERVICE_FAMILIES as readonly string[]).includes(options.family)) {
    throw new UserError(`"${options.family}" is not a service family`, {
      hint: "use source, processor or consumer",
    });
  }
  const family = options.family as ServiceFamily;
  if (!NAME.test(options.name) || options.name.length > 50) {
    throw new UserError(`"${options.name}" is not a valid service name`, {
      hint: "use lower-case letters and digits, words joined by '-', at most 50 characters, e.g. order-enricher",
    });
  }
  const scope = options.scope ?? "@flow";
  const packageName = `${scope}/${family}-${options.name}`;
  const context = openCommandContext(options);
  const root = context.repo.root;
  const parent =
    options.parent !== undefined ? repoPath(context, options.parent, { mayBeMissing: true }) : `${family}s`;
  const dir = posix.join(parent, options.name);
  if (existsSync(join(root, dir))) {
    throw new UserError(`${dir} already exists`, { hint: "choose another name, or remove the folder" });
  }
  const clash = findPackageNamed(root, packageName);
  if (clash !== undefined) throw new UserError(`a package named ${packageName} already exists in ${clash}`);
  const missing = WORKSPACE_FILES.filter((file) => !existsSync(join(root, file)));
  if (missing.length > 0) {
    throw new UserError(`flow new needs a Flow workspace: ${missing.join(", ")} missing at ${root}`, {
      hint: "the new package extends the workspace's TypeScript, jest and buf settings and its vendoring script",
    });
  }

  const contract = `${family}_service`;
  const released = context.ledger.releasesOf(contract);
  const latest = released.at(-1);
  if (!latest) {
    throw new UserError(`${contract} has never been released in this repository`, {
      hint: `a service vendors a released contract: flow proto release ${contract} major`,
    });
  }
  const major = semver.major(latest.version);

  const versions = dependencyVersions(root);
  const toRoot = posix.relative(dir, "") || ".";
  const files = serviceTemplates({ family, name: options.name, packageName, toRoot, versions, major });
  try {
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, dir, file)), { recursive: true });
      writeFileSync(join(root, dir, file), text);
    }
    // Pin the family contract, vendor it, then pin each shared type it imports at its major.
    const where = posix.join(dir, "proto-pins.yaml");
    const pins = [parsePin(`${contract}@^${major}`, where)];
    writeManifest(root, { dir, pins });
    vendorDir(context.repo, context.ledger, dir);
    for (const imported of importedMajorsOfFolder(join(root, dir, "proto", contract, `v${major}`))) {
      if (!pins.some((pin) => pin.name === imported.name && pin.major === imported.major)) {
        pins.push(parsePin(`${imported.name}@^${imported.major}`, where));
      }
    }
    writeManifest(root, { dir, pins });
    const vendored = vendorDir(context.repo, context.ledger, dir);
    const formatted = formatWithRepositoryFormatter(root, dir);
    return {
      dir,
      packageName,
      files: [...Object.keys(files), "proto-pins.yaml", "proto-pins.lock.yaml"].sort(),
      vendored,
      inWorkspace: workspaceIncludes(root, dir),
      formatted,
    };
  } catch (error) {
    // Leave nothing half-made behind: unstage the copies read-tree staged, remove the folder.
    context.repo.tryRun(["rm", "-r", "-q", "--cached", "--ignore-unmatch", "--", dir]);
    rmSync(join(root, dir), { recursive: true, force: true });
    throw error;
  }
}

/**
 * Formats the new package with the repository's own formatter when it uses biome, so the
 * package passes the repository's lint as it is: line breaks and import order depend on the
 * names chosen, which templates cannot know. Without biome the templates stand as written.
 */
function formatWithRepositoryFormatter(root: string, dir: string): boolean {
  const biome = join(root, "node_modules", ".bin", process.platform === "win32" ? "biome.cmd" : "biome");
  if (!existsSync(biome) || !["biome.json", "biome.jsonc"].some((file) => existsSync(join(root, file))))
    return false;
  const result = spawnSync(biome, ["check", "--write", dir], {
    cwd: root,
    encoding: "utf8",
    shell: process.platform === "win32",
  });
  return result.status === 0;
}

/** The `<name>/v<major>` contracts the .proto files of a folder import. */
/**
 * The versions of the service dependencies the workspace's packages already use (the most common
 * one of each), so a new service installs nothing new; fixed fallbacks in an empty workspace.
 */
function dependencyVersions(root: string): { grpc: string; protobuf: string } {
  const manifests = packageFolders(root).flatMap((folder) => {
    try {
      const data = JSON.parse(readFileSync(join(root, folder, "package.json"), "utf8")) as {
        dependencies?: Record<string, string>;
      };
      return [data.dependencies ?? {}];
    } catch {
      return [];
    }
  });
  const mostCommon = (dependency: string, fallback: string): string => {
    const counts = new Map<string, number>();
    for (const dependencies of manifests) {
      const version = dependencies[dependency];
      if (version && !version.startsWith("workspace:")) counts.set(version, (counts.get(version) ?? 0) + 1);
    }
    return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? fallback;
  };
  return {
    grpc: mostCommon("@grpc/grpc-js", "1.14.7"),
    protobuf: mostCommon("@bufbuild/protobuf", "2.17.0"),
  };
}

/** Folders one or two levels down holding a package.json. */
function packageFolders(root: string): string[] {
  const candidates: string[] = [];
  for (const top of safeList(root)) {
    candidates.push(top);
    for (const below of safeList(join(root, top))) candidates.push(posix.join(top, below));
  }
  return candidates.filter((candidate) => existsSync(join(root, candidate, "package.json")));
}

/** The folder of a package.json (one level below the top or two) whose name is `name`. */
function findPackageNamed(root: string, name: string): string | undefined {
  for (const candidate of packageFolders(root)) {
    try {
      const manifest = join(root, candidate, "package.json");
      if ((JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === name) return candidate;
    } catch {
      // not our business here: an unreadable package.json elsewhere
    }
  }
  return undefined;
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && entry.name !== "node_modules" && !entry.name.startsWith("."))
      .map((entry) => entry.name);
  } catch {
    return [];
  }
}

/** True when pnpm-workspace.yaml lists the folder (exactly, or by `<parent>/*`). */
function workspaceIncludes(root: string, dir: string): boolean {
  const file = join(root, "pnpm-workspace.yaml");
  if (!existsSync(file)) return false;
  const globs = ((parse(readFileSync(file, "utf8")) as { packages?: string[] } | null)?.packages ?? []).map(
    (glob) => glob.replace(/\/$/, ""),
  );
  return (
    globs.includes(dir) ||
    globs.includes(`${posix.dirname(dir)}/*`) ||
    globs.includes(`${posix.dirname(dir)}/**`)
  );
}
