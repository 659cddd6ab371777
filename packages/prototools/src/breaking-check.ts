import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, posix } from "node:path";
import { UserError } from "@flow/errors";
import { runBuf } from "./buf-cli";
import {
  authoredContracts,
  type ContractFolder,
  findAuthoredContracts,
  rootOfRelease,
} from "./contract-catalog";
import type { GitRepo } from "./git";
import { parseProtoOutline } from "./proto-outline";
import { ProtoSyntaxError } from "./proto-tokenizer";
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
   * to break); unreleased: never released; deleted: a released major whose folder is gone (breaking).
   */
  status: "unchanged" | "compared" | "new-major" | "unreleased" | "deleted";
  /** The release compared with (or found identical). */
  against?: Release;
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
  const release = ledger.latestInMajor(folder.name, folder.major);
  if (!release) {
    const older = ledger.releasesOf(folder.name).length > 0;
    return { folder, status: older ? "new-major" : "unreleased", changes: [] };
  }
  if (worktreeTreeId(repo, folder.path) === release.tree)
    return { folder, status: "unchanged", against: release, changes: [] };
  return { folder, status: "compared", against: release, changes: compareWithRelease(repo, folder, release) };
}

/** Every breaking change of the working-tree folder relative to `release`. */
export function compareWithRelease(
  repo: GitRepo,
  folder: ContractFolder,
  release: Release,
): BreakingChange[] {
  if (!repo.hasObject(release.commit)) {
    throw new UserError(
      `${release.name} ${release.version}: commit ${release.commit} is not in this repository`,
      {
        hint: "fetch the full history (a shallow clone lacks old commits): git fetch --unshallow",
      },
    );
  }
  const scratch = mkdtempSync(join(tmpdir(), "flow-breaking-"));
  try {
    const contractDir = `${folder.name}/v${folder.major}`;
    const releasedRoot = posix.dirname(posix.dirname(release.path));
    materialize(join(scratch, "current"), contractDir, worktreeReader(repo, folder));
    materialize(join(scratch, "released"), contractDir, releaseReader(repo, release, releasedRoot));
    const run = runBuf(["breaking", "current", "--against", "released"], scratch, { against: true });
    const compileErrors = run.diagnostics.filter((diagnostic) => diagnostic.type === "COMPILE");
    if (compileErrors.length > 0 || (run.status !== 0 && run.diagnostics.length === 0)) {
      const first = compileErrors[0];
      const side = first?.path?.startsWith("released/") ? `release ${release.version}` : "the working tree";
      const where = first?.path
        ? `${first.path.replace(/^(current|released)\//, `${folder.root}/`)}:${first.line}:${first.col}: `
        : "";
      throw new UserError(
        `cannot compare ${folder.name} v${folder.major} (${side} does not compile): ${where}${first?.message ?? run.otherOutput.join(" ")}`,
        { hint: `run: flow proto lint ${folder.path}` },
      );
    }
    const changes: BreakingChange[] = [];
    for (const diagnostic of run.diagnostics) {
      let relative = diagnostic.path?.replace(/^current\//, "");
      if (relative === undefined) {
        // A deleted file has no place in the new tree; buf names it in the message.
        relative = /file "([^"]+)"/.exec(diagnostic.message)?.[1];
      }
      if (relative === undefined || !relative.startsWith(`${contractDir}/`)) continue;
      changes.push({
        file: posix.join(folder.root, relative),
        line: diagnostic.line,
        col: diagnostic.col,
        rule: diagnostic.type,
        message: diagnostic.message,
      });
    }
    return changes;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Reads files of one side of a comparison by their path below the proto root; undefined when absent. */
interface SideReader {
  /** The contract's own .proto files, below the proto root. */
  contractFiles: string[];
  read(relative: string): string | undefined;
}

function worktreeReader(repo: GitRepo, folder: ContractFolder): SideReader {
  const prefix = `${folder.root}/`;
  return {
    contractFiles: folder.files.map((file) => file.slice(prefix.length)),
    read: (relative) => {
      const file = join(repo.root, folder.root, relative);
      return existsSync(file) && statSync(file).isFile() ? readFileSync(file, "utf8") : undefined;
    },
  };
}

function releaseReader(repo: GitRepo, release: Release, releasedRoot: string): SideReader {
  const contractDir = posix.relative(releasedRoot, release.path);
  const listed = repo.run(["ls-tree", "-r", "--name-only", "-z", release.tree]).split("\0");
  return {
    contractFiles: listed
      .filter((file) => file.endsWith(".proto"))
      .map((file) => posix.join(contractDir, file)),
    read: (relative) =>
      repo.tryRun(["cat-file", "blob", `${release.commit}:${posix.join(releasedRoot, relative)}`]),
  };
}

/**
 * Writes the contract's files and, transitively, the files they import (from the same proto
 * root) into `dest`, each under its path below the root: a self-contained input for buf that
 * leaves out the rest of the root, so an unrelated broken file cannot stop the comparison.
 */
function materialize(dest: string, contractDir: string, side: SideReader): void {
  const queue = [...side.contractFiles];
  const seen = new Set<string>();
  mkdirSync(join(dest, contractDir), { recursive: true });
  while (queue.length > 0) {
    const relative = queue.shift() as string;
    if (seen.has(relative)) continue;
    seen.add(relative);
    const text = side.read(relative);
    if (text === undefined) continue; // buf reports the unresolved import
    const file = join(dest, relative);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    try {
      for (const imported of parseProtoOutline(text).imports) queue.push(imported.path);
    } catch (error) {
      if (!(error instanceof ProtoSyntaxError)) throw error; // buf reports it with its position
    }
  }
}
