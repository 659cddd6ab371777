import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, posix, resolve } from "node:path";
import { UserError } from "@flow/errors";
import semver from "semver";
import { parse } from "yaml";
import { type CommandScope, openCommandContext, repoPath } from "./command-context";
import { importedMajorsOfFolder } from "./contract-imports";
import { GitCommandError, GitRepo } from "./git";
import { parsePin } from "./pin";
import { writeManifest } from "./pin-manifest";
import { LEDGER_FILE, ReleaseLedger } from "./release-ledger";
import { SETTINGS_FILE } from "./repo-settings";
import { type ServiceFamily, STANDALONE_TOOLCHAIN, serviceTemplates } from "./service-templates";
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
  const family = checkedFamilyAndName(options);
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
  const major = latestMajor(context.ledger, contract, "in this repository");

  const siblings = packageFolders(root).flatMap((folder) =>
    readPackageManifest(join(root, folder, "package.json")),
  );
  const versions = dependencyVersions(siblings.map((manifest) => manifest.dependencies ?? {}));
  const toRoot = posix.relative(dir, "") || ".";
  const files = serviceTemplates({
    family,
    name: options.name,
    packageName,
    toRoot,
    versions,
    major,
    ...installableLike(siblings),
  });
  try {
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, dir, file)), { recursive: true });
      writeFileSync(join(root, dir, file), text);
    }
    const vendored = pinFamilyContract(context.repo, context.ledger, dir, contract, major);
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

function checkedFamilyAndName(options: { family: string; name: string }): ServiceFamily {
  if (!(SERVICE_FAMILIES as readonly string[]).includes(options.family)) {
    throw new UserError(`"${options.family}" is not a service family`, {
      hint: "use source, processor or consumer",
    });
  }
  if (!NAME.test(options.name) || options.name.length > 50) {
    throw new UserError(`"${options.name}" is not a valid service name`, {
      hint: "use lower-case letters and digits, words joined by '-', at most 50 characters, e.g. order-enricher",
    });
  }
  return options.family as ServiceFamily;
}

/** The major of the latest release of `contract`; a clear error when it was never released. */
function latestMajor(ledger: ReleaseLedger, contract: string, where: string): number {
  const latest = ledger.releasesOf(contract).at(-1);
  if (!latest) {
    throw new UserError(`${contract} has never been released ${where}`, {
      hint: `a service vendors a released contract: flow proto release ${contract} major`,
    });
  }
  return semver.major(latest.version);
}

/**
 * Pins the family contract at `^major` in `dir`, vendors it, then pins each shared type it imports
 * at its major and vendors again: the manifest names everything the service speaks.
 */
function pinFamilyContract(
  repo: GitRepo,
  ledger: ReleaseLedger,
  dir: string,
  contract: string,
  major: number,
): VendorAction[] {
  const where = posix.join(dir, "proto-pins.yaml");
  const pins = [parsePin(`${contract}@^${major}`, where)];
  writeManifest(repo.root, { dir, pins });
  // This first pass vendors what the contract imports too; the second only pins and locks it.
  const vendored = vendorDir(repo, ledger, dir);
  for (const imported of importedMajorsOfFolder(join(repo.root, dir, "proto", contract, `v${major}`))) {
    if (!pins.some((pin) => pin.name === imported.name && pin.major === imported.major)) {
      pins.push(parsePin(`${imported.name}@^${imported.major}`, where));
    }
  }
  writeManifest(repo.root, { dir, pins });
  vendorDir(repo, ledger, dir);
  return vendored;
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

/** The dependencies of a package.json (read from `text`, or from the file `path`); none when unreadable. */
interface PackageManifest {
  dependencies?: Record<string, string>;
  license?: string;
  private?: boolean;
}

/** A package.json (read from `text`, or from the file `path`); none when unreadable. */
function readPackageManifest(path: string, text?: string): PackageManifest[] {
  try {
    return [JSON.parse(text ?? readFileSync(path, "utf8")) as PackageManifest];
  } catch {
    return [];
  }
}

/** The value most of `values` have (ties: the first seen), ignoring undefined. */
function mostCommon(values: (string | undefined)[]): string | undefined {
  const counts = new Map<string, number>();
  for (const value of values) if (value !== undefined) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
}

/**
 * A new package is installable like its siblings: when most of the workspace's packages are not
 * private, it is not either and carries their license (Flow's built-in services are packed and
 * installed); otherwise it stays private, as a package of a private workspace.
 */
function installableLike(siblings: PackageManifest[]): { license?: string } {
  const published = siblings.filter((manifest) => manifest.private !== true);
  if (published.length * 2 <= siblings.length) return {};
  const license = mostCommon(published.map((manifest) => manifest.license));
  return license ? { license } : {};
}

/**
 * The versions of the service dependencies Flow's packages already use (the most common one of
 * each among `manifests`' dependencies), so a new service installs nothing new; fixed fallbacks
 * when none says.
 */
function dependencyVersions(manifests: Record<string, string>[]): { grpc: string; protobuf: string } {
  const versionOf = (dependency: string, fallback: string): string =>
    mostCommon(
      manifests
        .map((dependencies) => dependencies[dependency])
        .filter((version) => !version?.startsWith("workspace:")),
    ) ?? fallback;
  return {
    grpc: versionOf("@grpc/grpc-js", "1.14.7"),
    protobuf: versionOf("@bufbuild/protobuf", "2.17.0"),
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

export interface NewStandaloneServiceOptions {
  family: string;
  name: string;
  /** The folder of the service's own repository: missing or empty; relative to `cwd`. */
  dir: string;
  /**
   * The Flow repository whose released contracts to vendor: a path or a URL git fetches from. By
   * default the Flow clone this program runs from, when it runs from one.
   */
  flowRepo?: string;
  /** What to fetch from it: a branch, tag or commit whose release ledger to use (default HEAD). */
  flowRef?: string;
  /** npm scope of the package name; without one the package is named `flow-<family>-<name>`. */
  scope?: string;
  cwd?: string;
}

export interface NewStandaloneServiceResult {
  /** The new repository, which is the package folder too (absolute). */
  dir: string;
  packageName: string;
  files: string[];
  vendored: VendorAction[];
  /** The Flow repository fetched from, as the remote `flow` names it. */
  flowRepo: string;
  /** The commit of that repository whose ledger the contracts were vendored by. */
  flowCommit: string;
}

/** The remote a standalone service fetches Flow's releases from, and the ref it fetches them into. */
export const FLOW_REMOTE = "flow";
export const FLOW_RELEASE_REF = "refs/remotes/flow/release";

// Taken from the Flow release as they are, so the service vendors by Flow's ledger, keeps Flow's
// prefix and generates, compiles and tests as Flow's own packages do.
const REQUIRED_RELEASE_FILES = [LEDGER_FILE, "buf.gen.yaml", "tsconfig.base.json", "jest.base.js"];
const OPTIONAL_RELEASE_FILES = [SETTINGS_FILE, ".swcrc"];

/**
 * `flow new <family> <name> --standalone <dir>`: a service in its own git repository outside any
 * Flow workspace. It fetches a Flow release (remote `flow`, ref refs/remotes/flow/release), takes
 * its release ledger and build settings, and vendors the family contract and the shared types it
 * imports with `git read-tree` from the fetched objects, pinned and locked by tree id as every
 * package of Flow is. The package sits at the repository's root and installs Flow from npm.
 * Nothing is left behind when a step fails.
 */
export function scaffoldStandaloneService(options: NewStandaloneServiceOptions): NewStandaloneServiceResult {
  const family = checkedFamilyAndName(options);
  const cwd = options.cwd ?? process.cwd();
  const target = resolve(cwd, options.dir);
  const existed = existsSync(target);
  if (existed && (!statSync(target).isDirectory() || readdirSync(target).length > 0)) {
    throw new UserError(`${options.dir} is not an empty folder`, {
      hint: "a standalone service gets a repository of its own: name a new or empty folder",
    });
  }
  const flowRepo = flowRepositoryArgument(options.flowRepo, cwd);
  const flowRef = options.flowRef ?? "HEAD";
  const packageName = options.scope
    ? `${options.scope}/${family}-${options.name}`
    : `flow-${family}-${options.name}`;

  mkdirSync(target, { recursive: true });
  try {
    const repo = new GitRepo(realpathSync(target));
    repo.run(["init", "-q"]);
    const flowCommit = fetchFlowRelease(repo, flowRepo, flowRef);
    const copied: string[] = [];
    for (const file of [...REQUIRED_RELEASE_FILES, ...OPTIONAL_RELEASE_FILES]) {
      const text = fileAtRelease(repo, file);
      if (text === undefined && REQUIRED_RELEASE_FILES.includes(file)) {
        throw new UserError(`${flowRepo} (${flowRef}) is not a Flow repository: it has no ${file}`, {
          hint: "--flow-repo names a clone of Flow or its URL, --flow-ref a branch, tag or commit of it",
        });
      }
      if (text === undefined) continue;
      writeFileSync(join(repo.root, file), text);
      copied.push(file);
    }
    const ledger = ReleaseLedger.read(repo.root);
    const contract = `${family}_service`;
    const major = latestMajor(ledger, contract, `in ${flowRepo} (${flowRef})`);

    const files = serviceTemplates({
      family,
      name: options.name,
      packageName,
      toRoot: ".",
      versions: dependencyVersions(releasedDependencies(repo)),
      major,
      standalone: { flow: `^${ownVersion()}`, toolchain: releasedToolchain(repo, flowRepo) },
    });
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(dirname(join(repo.root, file)), { recursive: true });
      writeFileSync(join(repo.root, file), text);
    }
    const vendored = pinFamilyContract(repo, ledger, "", contract, major);
    return {
      dir: repo.root,
      packageName,
      files: [...copied, ...Object.keys(files), "proto-pins.yaml", "proto-pins.lock.yaml"].sort(),
      vendored,
      flowRepo,
      flowCommit,
    };
  } catch (error) {
    if (existed)
      for (const entry of readdirSync(target)) rmSync(join(target, entry), { recursive: true, force: true });
    else rmSync(target, { recursive: true, force: true });
    throw error;
  }
}

/**
 * The repository to fetch from as the remote will name it: an existing folder as its absolute
 * path, anything else as the URL it is. Without one, the Flow clone this program runs from.
 */
function flowRepositoryArgument(argument: string | undefined, cwd: string): string {
  if (argument !== undefined) {
    const local = resolve(cwd, argument);
    return existsSync(local) ? local : argument;
  }
  // Run from a Flow clone (not installed in some node_modules): that clone is the default.
  let top: string | undefined;
  if (!__dirname.split(/[\\/]/).includes("node_modules")) {
    try {
      top = GitRepo.open(__dirname).root;
    } catch {
      top = undefined;
    }
  }
  if (top && existsSync(join(top, LEDGER_FILE))) return top;
  throw new UserError("flow new --standalone needs the Flow repository to vendor released contracts from", {
    hint: "name it: --flow-repo <path or URL of a Flow clone> (and --flow-ref <branch, tag or commit>)",
  });
}

/** Fetches `ref` of the Flow repository into FLOW_RELEASE_REF (so `git fetch flow` refreshes it); its commit. */
function fetchFlowRelease(repo: GitRepo, flowRepo: string, ref: string): string {
  repo.run(["remote", "add", FLOW_REMOTE, flowRepo]);
  repo.run(["config", `remote.${FLOW_REMOTE}.fetch`, `+${ref}:${FLOW_RELEASE_REF}`]);
  // Flow's proto-<name>@v<version> tags would mix with the service's own; the ledger is enough.
  repo.run(["config", `remote.${FLOW_REMOTE}.tagOpt`, "--no-tags"]);
  try {
    repo.run(["fetch", "-q", FLOW_REMOTE]);
  } catch (error) {
    if (!(error instanceof GitCommandError)) throw error;
    const said =
      error.stderr
        .trim()
        .split("\n")
        .find((line) => line.trim() !== "") ?? `exit ${error.status}`;
    throw new UserError(`cannot fetch ${ref} from ${flowRepo}: ${said}`, {
      hint: "--flow-repo names a clone of Flow or its URL, --flow-ref a branch, tag or commit of it",
    });
  }
  return repo.run(["rev-parse", `${FLOW_RELEASE_REF}^{commit}`]).trim();
}

/** A file of the fetched Flow release, byte for byte; undefined when the release has none. */
function fileAtRelease(repo: GitRepo, path: string): string | undefined {
  try {
    return repo.run(["show", `${FLOW_RELEASE_REF}:${path}`]);
  } catch (error) {
    if (error instanceof GitCommandError) return undefined;
    throw error;
  }
}

/** The dependencies of the release's packages (package.json one or two folders down). */
function releasedDependencies(repo: GitRepo): Record<string, string>[] {
  const listed = repo.run(["ls-tree", "-r", "--name-only", "-z", FLOW_RELEASE_REF]).split("\0");
  return listed
    .filter((path) => /^[^/]+\/([^/]+\/)?package\.json$/.test(path))
    .flatMap((path) => readPackageManifest(path, fileAtRelease(repo, path) ?? ""))
    .map((manifest) => manifest.dependencies ?? {});
}

/** The versions of the build and test tools the release builds its own packages with. */
function releasedToolchain(repo: GitRepo, flowRepo: string): Record<string, string> {
  let devDependencies: Record<string, string> = {};
  try {
    devDependencies =
      (
        JSON.parse(fileAtRelease(repo, "package.json") ?? "{}") as {
          devDependencies?: Record<string, string>;
        }
      ).devDependencies ?? {};
  } catch {
    // reported below as every tool missing
  }
  const missing = STANDALONE_TOOLCHAIN.filter((tool) => devDependencies[tool] === undefined);
  if (missing.length > 0) {
    throw new UserError(`${flowRepo}: the release's package.json names no version of ${missing.join(", ")}`, {
      hint: "--flow-repo names a clone of Flow or its URL, --flow-ref a branch, tag or commit of it",
    });
  }
  return Object.fromEntries(STANDALONE_TOOLCHAIN.map((tool) => [tool, devDependencies[tool] as string]));
}

/** This package's version: the Flow packages a standalone service installs are released with it. */
function ownVersion(): string {
  // package.json sits one level above src/ and dist/.
  return (JSON.parse(readFileSync(join(__dirname, "..", "package.json"), "utf8")) as { version: string })
    .version;
}
