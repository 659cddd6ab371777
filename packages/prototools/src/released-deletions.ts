import { existsSync, readdirSync, statSync } from "node:fs";
import { join, posix } from "node:path";
import semver from "semver";
import type { GitRepo } from "./git";
import { verifyLedger } from "./ledger-verification";
import type { Release, ReleaseLedger } from "./release-ledger";

/** A released major whose authored folder is no longer in the working tree. */
export interface DeletedContract {
  name: string;
  major: number;
  /** The latest release of that major: what consumers vendor and what was deleted. */
  release: Release;
  /** The released files, repository-relative (`proto/event/v1/event.proto`). */
  files: string[];
}

/**
 * Every released major (the latest release of each `<name>` and major in the ledger) whose folder
 * holds no .proto file in the working tree any more: deleted with `git rm`, staged or committed,
 * or removed from disk. A released major is never deleted: services built on it keep running,
 * and every copy of it points back at the ledger, so a deletion is a breaking change.
 */
export function findDeletedContracts(repo: GitRepo, ledger: ReleaseLedger): DeletedContract[] {
  const deleted: DeletedContract[] = [];
  for (const name of ledger.names()) {
    const majors = [...new Set(ledger.releasesOf(name).map((release) => semver.major(release.version)))];
    for (const major of majors) {
      const release = verifyLedger(repo, ledger).latestUsableInMajor(name, major);
      if (!release || holdsProtoFiles(join(repo.root, release.path))) continue;
      // A release made in another repository (a service's own repository vendors Flow's releases
      // with Flow's ledger) has no folder here to delete: only a folder this history had counts.
      if (!everInHistory(repo, release.path)) continue;
      deleted.push({ name, major, release, files: releasedFiles(repo, release) });
    }
  }
  return deleted;
}

/** True when some commit of the current history touched `path` (false with no commits yet). */
function everInHistory(repo: GitRepo, path: string): boolean {
  return (repo.tryRun(["log", "-1", "--format=%H", "--", `:(literal)${path}`]) ?? "") !== "";
}

function holdsProtoFiles(folder: string): boolean {
  if (!existsSync(folder) || !statSync(folder).isDirectory()) return false;
  return readdirSync(folder, { recursive: true, encoding: "utf8" }).some((entry) => entry.endsWith(".proto"));
}

/** The .proto files of a release, repository-relative; from its tree, or `<name>.proto` when the tree is gone. */
function releasedFiles(repo: GitRepo, release: Release): string[] {
  const listed = repo.tryRun(["ls-tree", "-r", "--name-only", "-z", release.tree]);
  const names = (listed ?? "").split("\0").filter((file) => file.endsWith(".proto"));
  const files = names.length > 0 ? names : [`${release.name.replace(/_service$/, "")}.proto`];
  return files.map((file) => posix.join(release.path, file));
}

/** How to bring a deleted major back, from what the ledger records. */
export function restoreCommand(repo: GitRepo, release: Release): string {
  return repo.hasObject(release.commit)
    ? `git checkout ${release.commit.slice(0, 12)} -- ${release.path}`
    : `git read-tree --prefix=${release.path}/ -u ${release.tree}`;
}
