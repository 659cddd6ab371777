import { relative, resolve } from "node:path";
import { UserError } from "@flow/errors";
import { GitRepo } from "./git";
import { hasManifest, MANIFEST_FILE } from "./pin-manifest";
import { ReleaseLedger } from "./release-ledger";
import {
  checkDeletedSources,
  checkDir,
  checkLedgerFor,
  findManifestDirs,
  type VendorAction,
  type VendorFinding,
  vendorDir,
} from "./vendoring";

export interface VendorCommandOptions {
  /** Verify only; change nothing. */
  check?: boolean;
  force?: boolean;
  upgrade?: boolean;
  only?: readonly string[];
  /** Folders (relative to cwd) whose pins to vendor; all manifests of the repository when empty. */
  dirs?: readonly string[];
  /** The repository; the one containing cwd when absent. */
  root?: string;
  cwd?: string;
}

export interface VendorCommandResult {
  actions: VendorAction[];
  findings: VendorFinding[];
  dirs: string[];
}

/** Resolves folder arguments to repository-relative manifest folders. */
export function manifestDirsFor(repo: GitRepo, cwd: string, dirs: readonly string[] | undefined): string[] {
  if (!dirs || dirs.length === 0) return findManifestDirs(repo);
  return dirs.map((dir) => {
    const relativeDir = relative(repo.root, resolve(cwd, dir)).split("\\").join("/");
    if (relativeDir.startsWith("..")) throw new UserError(`${dir} is outside the repository ${repo.root}`);
    if (!hasManifest(repo.root, relativeDir)) {
      throw new UserError(`${dir}: no ${MANIFEST_FILE} there`, {
        hint: "name a folder that pins contracts, or add a pin: flow proto add <dir> <name>@<range>",
      });
    }
    return relativeDir;
  });
}

/** `flow proto vendor [--check] [--force] [dirs...]`: the entry point the build uses too. */
export function runVendorCommand(options: VendorCommandOptions): VendorCommandResult {
  const cwd = options.cwd ?? process.cwd();
  const repo = GitRepo.open(options.root ? resolve(cwd, options.root) : cwd);
  const ledger = ReleaseLedger.read(repo.root);
  const dirs = manifestDirsFor(repo, options.root ? repo.root : cwd, options.dirs);
  const result: VendorCommandResult = { actions: [], findings: [], dirs };
  for (const dir of dirs) {
    if (options.check) result.findings.push(...checkDir(repo, ledger, dir));
    else result.actions.push(...vendorDir(repo, ledger, dir, options));
  }
  if (options.check) {
    const everything = !options.dirs || options.dirs.length === 0;
    result.findings.unshift(...checkLedgerFor(repo, ledger, everything ? undefined : dirs));
    result.findings.push(...checkDeletedSources(repo, ledger, dirs));
  }
  return result;
}

export function formatFinding(finding: VendorFinding): string {
  const where = finding.line !== undefined ? `:${finding.line}:${finding.col ?? 1}` : "";
  return `${finding.file}${where}: ${finding.message}\n  fix: ${finding.fix}`;
}

export function formatAction(action: VendorAction): string {
  const what =
    action.from && action.from !== action.version ? `${action.from} -> ${action.version}` : action.version;
  const why = action.requiredBy ? `, imported by ${action.requiredBy.join(", ")}` : "";
  return `${action.action.padEnd(9)} ${action.path} (${action.pin}: ${what}${why})`;
}

/** Prints what vendoring did or found; returns the exit code (1 when --check found problems). */
export function reportVendorResult(
  result: VendorCommandResult,
  options: { check?: boolean; quiet?: boolean },
): number {
  for (const finding of result.findings) console.error(formatFinding(finding));
  if (!options.quiet) for (const action of result.actions) console.log(formatAction(action));
  if (result.findings.length > 0) {
    console.error(`vendor --check: ${result.findings.length} problem(s) in vendored contracts`);
    return 1;
  }
  if (options.check && !options.quiet)
    console.log(`vendor --check: ${result.dirs.length} folder(s) match their locks`);
  return 0;
}
