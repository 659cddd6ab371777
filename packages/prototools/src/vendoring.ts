import { existsSync, readFileSync, rmSync, unlinkSync } from "node:fs";
import { join, posix } from "node:path";
import { FLOW_CLI, UserError } from "@flow/errors";
import semver from "semver";
import { importedMajorsOfFolder, importedMajorsOfTree } from "./contract-imports";
import type { GitRepo } from "./git";
import { verifyLedger } from "./ledger-verification";
import { type Pin, parsePin, resolvePin } from "./pin";
import { LOCK_FILE, type LockEntry, readLock, writeLock } from "./pin-lock";
import { MANIFEST_FILE, readManifest } from "./pin-manifest";
import type { Release, ReleaseLedger } from "./release-ledger";
import { findDeletedContracts, restoreCommand } from "./released-deletions";
import { findSymlinks, symlinkedAncestor, worktreeTreeId } from "./worktree-tree";

/** What vendoring did to one pin. */
export interface VendorAction {
  dir: string;
  pin: string;
  version: string;
  path: string;
  action: "vendored" | "replaced" | "unchanged" | "removed";
  from?: string;
  /** For a contract vendored because others import it: the pins that need it. */
  requiredBy?: string[];
}

/** One problem `--check` found: the file (repository-relative), what is wrong, the fix. */
export interface VendorFinding {
  file: string;
  /** Where in the file, when known (1-based). */
  line?: number;
  col?: number;
  message: string;
  fix: string;
}

export interface VendorOptions {
  /** Move every pin to the highest release its range admits, not the locked one. */
  upgrade?: boolean;
  /** Only these contract names (with upgrade). */
  only?: readonly string[];
  /** Replace vendored copies even when they were edited by hand. */
  force?: boolean;
}

/** The command that repairs a folder's vendored copies; printed with every finding. */
export function repairCommand(dir: string): string {
  return `${FLOW_CLI} proto vendor --force ${dir || "."}`;
}

/** Every folder of the repository that has a pin manifest (tracked or new, never ignored). */
export function findManifestDirs(repo: GitRepo): string[] {
  const listed = repo.run([
    "ls-files",
    "--cached",
    "--others",
    "--exclude-standard",
    "--",
    `*${MANIFEST_FILE}`,
  ]);
  const dirs = listed
    .split("\n")
    .filter((line) => line.endsWith(MANIFEST_FILE) && existsSync(join(repo.root, line)))
    .map((line) => posix.dirname(line))
    .map((dir) => (dir === "." ? "" : dir));
  return [...new Set(dirs)].sort();
}

function destination(dir: string, name: string, major: number): string {
  return posix.join(dir, "proto", name, `v${major}`);
}

/**
 * Vendors every pin of the manifest in `dir` with `git read-tree`, so `dir/proto/<name>/v<major>`
 * holds the released tree exactly, then writes the lock. A locked version that still satisfies
 * its range is kept unless `upgrade` is set. A copy edited by hand is never overwritten silently:
 * that needs `force`.
 */
export function vendorDir(
  repo: GitRepo,
  ledger: ReleaseLedger,
  dir: string,
  options: VendorOptions = {},
): VendorAction[] {
  const manifest = readManifest(repo.root, dir);
  const where = posix.join(dir, MANIFEST_FILE);
  const lock = readLock(repo.root, dir) ?? [];
  const actions: VendorAction[] = [];
  const nextLock: LockEntry[] = [];

  // The manifest's pins, then what their contracts import (transitively) that no pin covers:
  // a vendored contract always has the contracts it imports beside it.
  const work: { pin: Pin; requiredBy?: string[] }[] = manifest.pins.map((pin) => ({ pin }));
  const covered = new Map(manifest.pins.map((pin, index) => [`${pin.name}/v${pin.major}`, index]));
  for (let index = 0; index < work.length; index++) {
    const { pin, requiredBy } = work[index] as { pin: Pin; requiredBy?: string[] };
    const locked = lock.find((entry) => entry.pin === pin.spec);
    const release = chooseRelease(pin, locked, ledger, where, options);
    // Never vendor what the ledger cannot vouch for: its tree might not even be this contract.
    verifyLedger(repo, ledger).assertUsable(release);
    for (const imported of importedMajorsOfTree(repo, release.tree)) {
      const key = `${imported.name}/v${imported.major}`;
      const known = covered.get(key);
      if (known !== undefined) {
        const requirer = work[known];
        if (requirer?.requiredBy && !requirer.requiredBy.includes(pin.spec))
          requirer.requiredBy.push(pin.spec);
        continue;
      }
      covered.set(key, work.length);
      const spec = `${imported.name}@^${imported.major}`;
      work.push({
        pin: parsePin(spec, `${release.name} ${release.version} imports ${key}`),
        requiredBy: [pin.spec],
      });
    }
    const major = semver.major(release.version);
    const path = destination(dir, pin.name, major);
    const found = worktreeTreeId(repo, path);
    const previous = lock.find((entry) => posix.join(dir, entry.path) === path);

    if (found === release.tree) {
      actions.push({ dir, pin: pin.spec, version: release.version, path, action: "unchanged" });
    } else {
      const pristine = found === undefined || found === previous?.tree;
      if (!pristine && !options.force) {
        throw new UserError(
          `${path}: the vendored copy was edited (tree ${found}, lock says ${previous?.tree ?? "nothing"})`,
          {
            hint: `vendored copies are never edited; discard the edits with: ${repairCommand(dir)}`,
          },
        );
      }
      removeCopy(repo, dir, path);
      repo.run(["read-tree", `--prefix=${path}/`, "-u", release.tree]);
      actions.push({
        dir,
        pin: pin.spec,
        version: release.version,
        path,
        action: found === undefined ? "vendored" : "replaced",
        from: previous?.version,
        ...(requiredBy ? { requiredBy } : {}),
      });
    }
    nextLock.push({
      pin: pin.spec,
      name: release.name,
      version: release.version,
      source: release.path,
      commit: release.commit,
      tree: release.tree,
      path: posix.relative(dir || ".", path),
      ...(requiredBy ? { requiredBy } : {}),
    });
  }

  for (const entry of lock) {
    const path = posix.join(dir, entry.path);
    if (nextLock.some((next) => posix.join(dir, next.path) === path)) continue;
    removeCopy(repo, dir, path);
    actions.push({ dir, pin: entry.pin, version: entry.version, path, action: "removed" });
  }

  writeLock(repo.root, dir, nextLock);
  return actions;
}

function chooseRelease(
  pin: Pin,
  locked: LockEntry | undefined,
  ledger: ReleaseLedger,
  where: string,
  options: VendorOptions,
): Release {
  const upgrading = options.upgrade && (!options.only || options.only.includes(pin.name));
  if (locked && !upgrading && semver.satisfies(locked.version, pin.semverRange)) {
    const release = ledger.find(locked.name, locked.version);
    if (release) return release;
  }
  return resolvePin(pin, ledger, where);
}

/** Removes a vendored copy from the index and the working tree (read-tree refuses an existing prefix). */
function removeCopy(repo: GitRepo, dir: string, path: string): void {
  const above = symlinkedAncestor(repo.root, dir === "" ? "" : `${dir}/x`);
  if (above !== undefined) {
    throw new UserError(`${above} is a symlink; vendoring into ${dir} would write through it`, {
      hint: "vendor into a real folder of the repository",
    });
  }
  // A symlink on the way to the copy is removed itself: following it would delete what it points to.
  const link = symlinkedAncestor(repo.root, path, dir);
  if (link !== undefined) {
    repo.run(["rm", "-r", "-q", "--cached", "--ignore-unmatch", "-f", "--", link]);
    unlinkSync(join(repo.root, link));
    return;
  }
  repo.run(["rm", "-r", "-q", "--cached", "--ignore-unmatch", "-f", "--", path]);
  rmSync(join(repo.root, path), { recursive: true, force: true });
}

/**
 * Verifies the vendored copies of `dir` against its manifest, its lock and the release ledger,
 * without tags or network: every pin locked, every lock entry a real release, every copy's
 * working-tree tree id equal to the released tree, no symlinks.
 */
export function checkDir(repo: GitRepo, ledger: ReleaseLedger, dir: string): VendorFinding[] {
  const findings: VendorFinding[] = [];
  const verification = verifyLedger(repo, ledger);
  const fix = repairCommand(dir);
  const manifestFile = posix.join(dir, MANIFEST_FILE);
  const lockFile = posix.join(dir, LOCK_FILE);
  const manifest = readManifest(repo.root, dir);
  const lock = readLock(repo.root, dir);
  if (!lock) {
    return [{ file: lockFile, message: "missing: the pins were never vendored", fix }];
  }

  for (const pin of manifest.pins) {
    if (!lock.some((entry) => entry.pin === pin.spec)) {
      findings.push({
        file: manifestFile,
        message: `pin "${pin.spec}" has no lock entry (not vendored)`,
        fix,
      });
    }
  }

  // Every contract a vendored copy imports must be vendored too (pinned, or locked as a dependency).
  const needed = new Set<string>();
  const lockedMajors = new Set(lock.map((entry) => `${entry.name}/v${semver.major(entry.version)}`));
  for (const entry of lock) {
    for (const imported of importedMajorsOfFolder(join(repo.root, dir, entry.path))) {
      const key = `${imported.name}/v${imported.major}`;
      needed.add(key);
      if (lockedMajors.has(key)) continue;
      lockedMajors.add(key);
      findings.push({
        file: lockFile,
        message: `${entry.name} ${entry.version} imports ${key}, which is not vendored beside it`,
        fix,
      });
    }
  }

  for (const entry of lock) {
    const path = posix.join(dir, entry.path);
    if (
      !manifest.pins.some((pin) => pin.spec === entry.pin) &&
      !needed.has(`${entry.name}/v${semver.major(entry.version)}`)
    ) {
      findings.push({
        file: lockFile,
        message: `"${entry.pin}" is locked but no longer pinned in ${MANIFEST_FILE}, and no vendored contract imports it`,
        fix,
      });
    }
    const release = ledger.find(entry.name, entry.version);
    if (!release) {
      findings.push({
        file: lockFile,
        message: `${entry.name} ${entry.version} is not a known release (not in the release ledger)`,
        fix,
      });
      continue;
    }
    // An entry the ledger cannot vouch for is the ledger's finding (reported once, on its line),
    // not every lock's: the copy is still checked against the tree its lock recorded.
    const ledgerTrusted = !verification.isUntrusted(release);
    if (ledgerTrusted && (release.tree !== entry.tree || release.commit !== entry.commit)) {
      findings.push({
        file: lockFile,
        message: `${entry.name} ${entry.version}: lock says tree ${entry.tree}, the release is tree ${release.tree}`,
        fix,
      });
      continue;
    }
    const linkedAncestor = symlinkedAncestor(repo.root, path);
    if (linkedAncestor !== undefined) {
      findings.push({
        file: linkedAncestor,
        message: "is a symlink; vendored copies are real files made by git read-tree",
        fix,
      });
      continue;
    }
    const links = findSymlinks(repo.root, path);
    for (const link of links) {
      findings.push({
        file: link,
        message: `is a symlink; vendored copies are real files made by git read-tree`,
        fix,
      });
    }
    const found = worktreeTreeId(repo, path);
    if (found === undefined) {
      findings.push({
        file: path,
        message: `missing: ${entry.name} ${entry.version} is locked but not vendored`,
        fix,
      });
    } else if (found !== entry.tree) {
      for (const file of changedFiles(repo, entry.tree, found, path)) {
        if (links.includes(file.path)) continue; // reported once, as a symlink
        findings.push({
          file: file.path,
          ...(file.position ?? {}),
          message: `${file.change} in the vendored copy of ${entry.name} ${entry.version} (expected tree ${entry.tree}, found ${found})`,
          fix,
        });
      }
    }
  }
  return findings;
}

interface ChangedFile {
  path: string;
  change: string;
  /** For an edited file: where it first differs from the released one. */
  position?: { line: number; col: number };
}

/** Which files differ between the released tree and the copy, repository-relative. */
function changedFiles(repo: GitRepo, expected: string, found: string, path: string): ChangedFile[] {
  if (found.startsWith("not-a-folder:")) return [{ path, change: "not a folder" }];
  const words: Record<string, string> = { A: "added", D: "deleted", M: "edited", T: "type changed" };
  const lines = repo.run(["diff-tree", "-r", "--no-renames", "--name-status", expected, found]).trim();
  if (lines === "") return [{ path, change: "changed" }];
  return lines.split("\n").map((line) => {
    const [status = "", file = ""] = line.split("\t");
    const changed: ChangedFile = {
      path: posix.join(path, file),
      change: words[status[0] ?? ""] ?? "changed",
    };
    if (status[0] !== "M") return changed;
    const released = repo.tryRun(["cat-file", "blob", `${expected}:${file}`]);
    const copy = join(repo.root, path, file);
    if (released === undefined || !existsSync(copy)) return changed;
    return { ...changed, position: firstDifference(released, readFileSync(copy, "utf8")) };
  });
}

/** The 1-based line and column where two texts first differ. */
function firstDifference(a: string, b: string): { line: number; col: number } {
  const left = a.split("\n");
  const right = b.split("\n");
  for (let line = 0; line < Math.max(left.length, right.length); line++) {
    const x = left[line] ?? "";
    const y = right[line] ?? "";
    if (x === y && line < left.length && line < right.length) continue;
    let col = 0;
    while (col < x.length && col < y.length && x[col] === y[col]) col++;
    return { line: line + 1, col: col + 1 };
  }
  return { line: 1, col: 1 };
}

/**
 * Released majors that were deleted from the repository while folders among `dirs` vendor them:
 * one finding per deleted major (not one per lock), on the deleted folder.
 */
export function checkDeletedSources(
  repo: GitRepo,
  ledger: ReleaseLedger,
  dirs: readonly string[],
): VendorFinding[] {
  const findings: VendorFinding[] = [];
  for (const gone of findDeletedContracts(repo, ledger)) {
    const users = dirs.filter((dir) =>
      (readLock(repo.root, dir) ?? []).some(
        (entry) => entry.name === gone.name && semver.major(entry.version) === gone.major,
      ),
    );
    if (users.length === 0) continue;
    findings.push({
      file: gone.files[0] ?? gone.release.path,
      message: `${gone.name} v${gone.major} is released (${gone.release.version}) but ${gone.release.path} was deleted; ${users.map((dir) => posix.join(dir, LOCK_FILE)).join(", ")} vendor${users.length === 1 ? "s" : ""} it`,
      fix: `a released major stays in the repository: ${restoreCommand(repo, gone.release)}`,
    });
  }
  return findings;
}

/**
 * The ledger's own findings that matter to `dirs` (entries of a contract and major they vendor),
 * or all of them: each once, on its line of the ledger, however many locks use the entry.
 */
export function checkLedgerFor(
  repo: GitRepo,
  ledger: ReleaseLedger,
  dirs?: readonly string[],
): VendorFinding[] {
  const vendored =
    dirs === undefined
      ? undefined
      : dirs.flatMap((dir) =>
          (readLock(repo.root, dir) ?? []).map((entry) => `${entry.name}@${semver.major(entry.version)}`),
        );
  return verifyLedger(repo, ledger)
    .findings.filter(
      (finding) =>
        vendored === undefined ||
        (semver.valid(finding.release.version) !== null &&
          vendored.includes(`${finding.release.name}@${semver.major(finding.release.version)}`)),
    )
    .map((finding) => ({
      file: finding.file,
      line: finding.line,
      col: finding.col,
      message: finding.message,
      fix: finding.hint,
    }));
}
