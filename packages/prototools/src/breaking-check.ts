import { posix } from "node:path";
import { UserError } from "@flow/errors";
import {
  authoredContracts,
  type ContractFolder,
  findAuthoredContracts,
  rootOfRelease,
} from "./contract-catalog";
import { compareSides } from "./contract-comparison";
import { collectSide, releaseSide, worktreeSide } from "./contract-sides";
import type { GitRepo } from "./git";
import { verifyLedger } from "./ledger-verification";
import type { Release, ReleaseLedger } from "./release-ledger";
import { type DeletedContract, findDeletedContracts, restoreCommand } from "./released-deletions";
import { worktreeTreeId } from "./worktree-tree";

/** One breaking change: where in the working tree, which buf rule, what broke. */
export interface BreakingChange {
  /** Repository-relative; for a deleted file, the file that was deleted. */
  file: string;
  line: number;
  col: number;
  /** buf's rule id, e.g. FIELD_NO_DELETE. */
  rule: string;
  message: string;
}

export interface ContractComparison {
  folder: ContractFolder;
  /**
   * unchanged: identical to the latest release of its major; compared: differs and was compared;
   * new-major: no release in this major yet, but an older major was released (the sanctioned way
   * to break); unreleased: never released; deleted: a released major whose folder is gone (breaking);
   * new: with --against, a folder the ref does not have.
   */
  status: "unchanged" | "compared" | "new-major" | "unreleased" | "deleted" | "new";
  /** The release compared with (or found identical). */
  against?: Release;
  /** With --against: the git ref compared with, instead of a release. */
  againstRef?: string;
  changes: BreakingChange[];
  /** What to do about the changes, when the generic hint does not fit. */
  hint?: string;
}

/**
 * The breaking-change gate: compares every authored contract (or those named) that differs from
 * the latest release of its major with that release, found through the ledger's commit, so no
 * tag is needed. buf compares the two with its FILE rules, the strictest set: it also protects
 * the generated code (names), not just the wire format.
 */
export function checkBreaking(
  repo: GitRepo,
  ledger: ReleaseLedger,
  names: readonly string[] = [],
): ContractComparison[] {
  const allDeleted = findDeletedContracts(repo, ledger);
  const deleted = allDeleted.filter(
    (gone) => names.length === 0 || names.some((name) => namesDeletion(name, gone)),
  );
  const folders =
    names.length === 0
      ? authoredContracts(repo, ledger)
      : names.flatMap((name) => {
          // A name whose only folder was deleted is reported as a deletion, not as unknown.
          if (!deleted.some((gone) => namesDeletion(name, gone)))
            return findAuthoredContracts(repo, ledger, name);
          const trimmed = name.replace(/\/+$/, "");
          return authoredContracts(repo, ledger).filter(
            (folder) =>
              folder.name === trimmed || folder.path === trimmed || posix.dirname(folder.path) === trimmed,
          );
        });
  const unique = [...new Map(folders.map((folder) => [folder.path, folder])).values()].filter(
    (folder) => !allDeleted.some((gone) => gone.release.path === folder.path),
  );
  const compared = unique.map((folder) => compareFolder(repo, ledger, folder));
  return [...compared, ...deleted.map((gone) => deletionOf(repo, gone))].sort((a, b) =>
    compareText(a.folder.path, b.folder.path),
  );
}

/** True when a command argument (a name or a folder) names the deleted major. */
function namesDeletion(argument: string, gone: DeletedContract): boolean {
  const trimmed = argument.replace(/\/+$/, "");
  return (
    trimmed === gone.name || trimmed === gone.release.path || trimmed === posix.dirname(gone.release.path)
  );
}

/** A released major that was deleted: one FILE_NO_DELETE per released file, as buf names it. */
function deletionOf(repo: GitRepo, gone: DeletedContract): ContractComparison {
  const root = rootOfRelease(gone.release.path);
  return {
    hint:
      `${gone.name} v${gone.major} (${gone.release.path}) is released (${gone.release.version}) and services vendor it: ` +
      `a released major stays in the repository. Restore it: ${restoreCommand(repo, gone.release)}`,
    folder: { name: gone.name, major: gone.major, path: gone.release.path, root, vendored: false, files: [] },
    status: "deleted",
    against: gone.release,
    changes: gone.files.map((file) => ({
      file,
      line: 1,
      col: 1,
      rule: "FILE_NO_DELETE",
      message: `Previously present file "${posix.relative(root, file)}" was deleted: ${gone.name} v${gone.major} is released (${gone.release.version}).`,
    })),
  };
}

/** Code-point order: the same on every machine, unlike localeCompare. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareFolder(repo: GitRepo, ledger: ReleaseLedger, folder: ContractFolder): ContractComparison {
  // The gate compares with what it accepted: an entry the ledger cannot vouch for is skipped.
  const release = verifyLedger(repo, ledger).latestUsableInMajor(folder.name, folder.major);
  if (!release) {
    const older = ledger.releasesOf(folder.name).length > 0;
    const sameMajor = ledger.latestInMajor(folder.name, folder.major) !== undefined;
    return { folder, status: older && !sameMajor ? "new-major" : "unreleased", changes: [] };
  }
  if (worktreeTreeId(repo, folder.path) === release.tree)
    return { folder, status: "unchanged", against: release, changes: [] };
  return {
    folder,
    status: "compared",
    against: release,
    changes: compareWithRelease(repo, ledger, folder, release),
  };
}

/**
 * Every breaking change of the working-tree folder relative to `release`, read from the tree id
 * the ledger records (no tag, and no release commit, is needed).
 */
export function compareWithRelease(
  repo: GitRepo,
  ledger: ReleaseLedger,
  folder: ContractFolder,
  release: Release,
): BreakingChange[] {
  verifyLedger(repo, ledger).assertUsable(release);
  return compareFolderWith(
    folder,
    collectSide(releaseSide(repo, ledger, release)),
    `release ${release.version}`,
    repo,
  );
}

/** Compares the working-tree folder with another side, mapping buf's findings to repository paths. */
export function compareFolderWith(
  folder: ContractFolder,
  previous: Map<string, string>,
  previousLabel: string,
  repo: GitRepo,
): BreakingChange[] {
  const contractDir = `${folder.name}/v${folder.major}`;
  const compared = compareSides(contractDir, collectSide(worktreeSide(repo, folder)), previous);
  if (compared.compileError) {
    const error = compared.compileError;
    const side = error.side === "previous" ? previousLabel : "the working tree";
    const where = error.relative
      ? `${posix.join(folder.root, error.relative)}:${error.line}:${error.col}: `
      : "";
    throw new UserError(
      `cannot compare ${folder.name} v${folder.major} (${side} does not compile): ${where}${error.message}`,
      { hint: `run: flow proto lint ${folder.path}` },
    );
  }
  return compared.changes.map((change) => ({
    file: posix.join(folder.root, change.relative),
    line: change.line,
    col: change.col,
    rule: change.rule,
    message: change.message,
  }));
}
