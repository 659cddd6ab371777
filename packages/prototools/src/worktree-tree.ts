import { existsSync, lstatSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { GitRepo } from "./git";

/**
 * The git tree id a working-tree folder would have if committed, computed in a throwaway index
 * so the user's index is left alone. Undefined when the folder is missing or holds no file.
 * A vendored copy made by `git read-tree` has exactly the released tree id; any edit, added
 * file, mode change or symlink changes it.
 */
export function worktreeTreeId(repo: GitRepo, relativeDir: string): string | undefined {
  const absolute = join(repo.root, relativeDir);
  // git refuses paths "beyond a symbolic link"; such a folder is never a vendored copy anyway.
  const link = symlinkedAncestor(repo.root, relativeDir);
  if (link !== undefined) return `symlink:${link}`;
  if (!existsSync(absolute)) return undefined;
  if (!lstatSync(absolute).isDirectory()) return hashOddEntry(repo, relativeDir);
  const scratch = mkdtempSync(join(tmpdir(), "flow-tree-"));
  try {
    // Start from the real index's entries for the folder, so `git add` judges files as a commit
    // would: tracked files count even when they match .gitignore, ignored untracked files (editor
    // swap files, .DS_Store) do not. Entries go in without stat data (not a copy of the index),
    // so every file is hashed again: a same-size edit in the same clock tick is never missed.
    const env = { ...process.env, GIT_INDEX_FILE: join(scratch, "index") };
    repo.run(["read-tree", "--empty"], { env });
    const tracked = repo.run(["ls-files", "--stage", "-z", "--", relativeDir]);
    if (tracked !== "") repo.run(["update-index", "-z", "--index-info"], { env, input: tracked });
    if (repo.tryRun(["add", "--all", "--", relativeDir], { env }) === undefined) {
      // The folder itself is ignored: hash what is there, as before.
      repo.run(["add", "--force", "--all", "--", relativeDir], { env });
    }
    const listed = repo.run(["ls-files", "--cached", "--", relativeDir], { env }).trim();
    if (listed === "") return undefined;
    return repo.run(["write-tree", `--prefix=${relativeDir}/`], { env }).trim();
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** A symlink or file where a folder should be: hash it as what it is, so it never matches a tree. */
function hashOddEntry(repo: GitRepo, relativeDir: string): string {
  return `not-a-folder:${repo.run(["hash-object", "--", relativeDir]).trim()}`;
}

/**
 * The first component of `relativeDir` (repository-relative, excluding the folder itself) that
 * is a symlink, or undefined. With `below`, only components below that folder are looked at.
 */
export function symlinkedAncestor(root: string, relativeDir: string, below = ""): string | undefined {
  const parts = relativeDir.split("/").filter(Boolean);
  const start = below.split("/").filter(Boolean).length + 1;
  for (let end = start; end < parts.length; end++) {
    const candidate = parts.slice(0, end).join("/");
    if (isSymlink(join(root, candidate))) return candidate;
  }
  return undefined;
}

/** Every symlink at or below `relativeDir`, repository-relative. */
export function findSymlinks(root: string, relativeDir: string): string[] {
  const found: string[] = [];
  const walk = (relative: string): void => {
    const absolute = join(root, relative);
    if (!existsSync(absolute) && !isSymlink(absolute)) return;
    const stat = lstatSync(absolute);
    if (stat.isSymbolicLink()) {
      found.push(relative);
      return;
    }
    if (!stat.isDirectory()) return;
    for (const entry of readdirSync(absolute).sort()) walk(join(relative, entry));
  };
  walk(relativeDir);
  return found;
}

/** True when `path` itself is a symlink (dangling or not). */
function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
