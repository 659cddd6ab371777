import { posix } from "node:path";
import { UserError } from "@flow/errors";
import { parse } from "yaml";
import type { BreakingChange, ContractComparison } from "./breaking-check";
import { compareFolderWith } from "./breaking-check";
import { authoredContracts, findAuthoredContracts } from "./contract-catalog";
import { collectSide, refSide } from "./contract-sides";
import type { GitRepo } from "./git";
import { LOCK_FILE } from "./pin-lock";
import type { ReleaseLedger } from "./release-ledger";
import { worktreeTreeId } from "./worktree-tree";

const VERSIONED = /^(.*?)(?:^|\/)proto\/([^/]+)\/v(\d+)\/[^/]+\.proto$/;

/**
 * `flow proto breaking --against <ref>`: compares every authored contract (or those named) with
 * the same folder at any git ref (a branch, a tag, a commit), as `buf breaking --against
 * .git#ref=...` does, instead of with its latest release. A folder the ref does not have is new;
 * a contract folder the ref has and the working tree lost is deleted (FILE_NO_DELETE).
 */
export function checkBreakingAgainstRef(
  repo: GitRepo,
  ledger: ReleaseLedger,
  ref: string,
  names: readonly string[] = [],
): ContractComparison[] {
  const commit = repo.resolve(`${ref}^{commit}`);
  if (!commit) {
    throw new UserError(`--against ${ref}: no such branch, tag or commit in this repository`, {
      hint: "name a ref git knows (git branch -a, git tag), e.g. --against main",
    });
  }
  const folders =
    names.length === 0
      ? authoredContracts(repo, ledger)
      : names.flatMap((name) => findAuthoredContracts(repo, ledger, name));
  const unique = [...new Map(folders.map((folder) => [folder.path, folder])).values()];
  const comparisons: ContractComparison[] = unique.map((folder) => {
    const atRef = repo.tryRun(["rev-parse", "--verify", "--quiet", `${commit}:${folder.path}`]);
    if (atRef === undefined) return { folder, status: "new", againstRef: ref, changes: [] };
    if (worktreeTreeId(repo, folder.path) === atRef)
      return { folder, status: "unchanged", againstRef: ref, changes: [] };
    const previous = collectSide(refSide(repo, commit, folder));
    return {
      folder,
      status: "compared",
      againstRef: ref,
      changes: compareFolderWith(folder, previous, ref, repo),
    };
  });
  const present = new Set(authoredContracts(repo, ledger).map((folder) => folder.path));
  for (const gone of authoredFoldersAt(repo, commit)) {
    if (present.has(gone.path) || unique.some((folder) => folder.path === gone.path)) continue;
    if (
      names.length > 0 &&
      !names.some((name) => name === gone.name || name.replace(/\/+$/, "") === gone.path)
    )
      continue;
    const changes: BreakingChange[] = gone.files.map((file) => ({
      file,
      line: 1,
      col: 1,
      rule: "FILE_NO_DELETE",
      message: `Previously present file "${posix.relative(gone.root, file)}" was deleted.`,
    }));
    comparisons.push({
      folder: {
        name: gone.name,
        major: gone.major,
        path: gone.path,
        root: gone.root,
        vendored: false,
        files: [],
      },
      status: "deleted",
      againstRef: ref,
      changes,
      hint: `${gone.path} exists at ${ref}; restore it: git checkout ${ref} -- ${gone.path}`,
    });
  }
  return comparisons.sort((a, b) =>
    a.folder.path < b.folder.path ? -1 : a.folder.path > b.folder.path ? 1 : 0,
  );
}

interface FolderAtRef {
  name: string;
  major: number;
  path: string;
  root: string;
  files: string[];
}

/** The contract folders at a commit that are not vendored copies (per the locks at that commit). */
function authoredFoldersAt(repo: GitRepo, commit: string): FolderAtRef[] {
  const listed = repo.run(["ls-tree", "-r", "--name-only", "-z", commit]).split("\0");
  const vendored = new Set<string>();
  for (const file of listed.filter((path) => path === LOCK_FILE || path.endsWith(`/${LOCK_FILE}`))) {
    const owner = posix.dirname(file) === "." ? "" : posix.dirname(file);
    try {
      const lock = parse(repo.run(["cat-file", "blob", `${commit}:${file}`])) as {
        vendored?: { path?: string }[];
      };
      for (const entry of lock?.vendored ?? []) if (entry.path) vendored.add(posix.join(owner, entry.path));
    } catch {
      // an unreadable lock at the ref: its copies count as folders of their own
    }
  }
  const folders = new Map<string, FolderAtRef>();
  for (const file of listed) {
    const match = VERSIONED.exec(file);
    if (!match) continue;
    const [, owner = "", name = "", major = "0"] = match;
    const root = posix.join(owner, "proto");
    const path = posix.join(root, name, `v${major}`);
    if (vendored.has(path)) continue;
    const folder = folders.get(path) ?? { name, major: Number(major), path, root, files: [] };
    folder.files.push(file);
    folders.set(path, folder);
  }
  return [...folders.values()];
}
