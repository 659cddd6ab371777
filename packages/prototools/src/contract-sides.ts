import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, posix } from "node:path";
import semver from "semver";
import type { ContractFolder } from "./contract-catalog";
import type { GitRepo } from "./git";
import { parseProtoOutline } from "./proto-outline";
import { ProtoSyntaxError } from "./proto-tokenizer";
import type { Release, ReleaseLedger } from "./release-ledger";

/**
 * One side of a comparison: the contract's own files and a way to read any file below its proto
 * root (the contract and what it imports), by path below that root; undefined when absent.
 */
export interface ContractSide {
  /** The contract's own .proto files, below the proto root: `event/v1/event.proto`. */
  contractFiles: string[];
  read(relative: string): string | undefined;
}

/** The folder as it is in the working tree, imports from the copies beside it. */
export function worktreeSide(repo: GitRepo, folder: ContractFolder): ContractSide {
  const prefix = `${folder.root}/`;
  return {
    contractFiles: folder.files.map((file) => file.slice(prefix.length)),
    read: (relative) => {
      const file = join(repo.root, folder.root, relative);
      return existsSync(file) && statSync(file).isFile() ? readFileSync(file, "utf8") : undefined;
    },
  };
}

/**
 * A release as the ledger records it: its files from the recorded **tree** (which survives a
 * squash or rebase merge as long as the merged commit holds the same folder), its imports from
 * the proto root of the release commit when that commit is still here, else from the latest
 * release of each imported major whose tree is here.
 */
export function releaseSide(repo: GitRepo, ledger: ReleaseLedger, release: Release): ContractSide {
  const releasedRoot = posix.dirname(posix.dirname(release.path));
  const contractDir = posix.relative(releasedRoot, release.path);
  const listed = repo.tryRun(["ls-tree", "-r", "--name-only", "-z", release.tree]) ?? "";
  const commitPresent = repo.objectType(release.commit) === "commit";
  return {
    contractFiles: listed
      .split("\0")
      .filter((file) => file.endsWith(".proto"))
      .map((file) => posix.join(contractDir, file)),
    read: (relative) => {
      if (relative.startsWith(`${contractDir}/`)) {
        return readBlob(repo, `${release.tree}:${relative.slice(contractDir.length + 1)}`);
      }
      if (commitPresent) {
        const text = readBlob(repo, `${release.commit}:${posix.join(releasedRoot, relative)}`);
        if (text !== undefined) return text;
      }
      return importFromLedger(repo, ledger, relative);
    },
  };
}

/** The folder as it is at a git ref (a branch, a tag, a commit): the other side of `--against`. */
export function refSide(repo: GitRepo, ref: string, folder: ContractFolder): ContractSide {
  const listed = repo.tryRun(["ls-tree", "-r", "--name-only", "-z", `${ref}:${folder.path}`]) ?? "";
  const contractDir = posix.relative(folder.root, folder.path);
  return {
    contractFiles: listed
      .split("\0")
      .filter((file) => file.endsWith(".proto"))
      .map((file) => posix.join(contractDir, file)),
    read: (relative) => readBlob(repo, `${ref}:${posix.join(folder.root, relative)}`),
  };
}

/** `<name>/v<major>/<file>` from the latest release of that major whose tree is in the repository. */
function importFromLedger(repo: GitRepo, ledger: ReleaseLedger, relative: string): string | undefined {
  const match = /^([^/]+)\/v([1-9][0-9]*)\/(.+)$/.exec(relative);
  if (!match) return undefined;
  const [, name = "", major = "", file = ""] = match;
  const candidates = ledger
    .releasesOf(name)
    .filter((release) => semver.major(release.version) === Number(major))
    .reverse();
  for (const candidate of candidates) {
    const text = readBlob(repo, `${candidate.tree}:${file}`);
    if (text !== undefined) return text;
  }
  return undefined;
}

/** A blob's text, or undefined when the object or path is not there. Untrimmed, unlike tryRun. */
function readBlob(repo: GitRepo, spec: string): string | undefined {
  try {
    return repo.run(["cat-file", "blob", spec]);
  } catch {
    return undefined;
  }
}

/**
 * The contract's files and, transitively, the files they import (from the same proto root), by
 * path below the root: a self-contained input for buf that leaves out the rest of the root, so an
 * unrelated broken file cannot stop a comparison. A file that cannot be read is left out (buf
 * then reports the unresolved import).
 */
export function collectSide(side: ContractSide): Map<string, string> {
  const files = new Map<string, string>();
  const queue = [...side.contractFiles];
  const seen = new Set<string>();
  while (queue.length > 0) {
    const relative = queue.shift() as string;
    if (seen.has(relative)) continue;
    seen.add(relative);
    const text = side.read(relative);
    if (text === undefined) continue;
    files.set(relative, text);
    try {
      for (const imported of parseProtoOutline(text).imports) queue.push(imported.path);
    } catch (error) {
      if (!(error instanceof ProtoSyntaxError)) throw error; // buf reports it with its position
    }
  }
  return files;
}

/** Writes collected files below `dest` (the contract's folder is created even when empty). */
export function writeSide(dest: string, contractDir: string, files: ReadonlyMap<string, string>): void {
  mkdirSync(join(dest, contractDir), { recursive: true });
  for (const [relative, text] of files) {
    const file = join(dest, relative);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
}
