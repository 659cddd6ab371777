import { posix } from "node:path";
import { UserError } from "@flow/errors";
import type { GitRepo } from "./git";
import { readLock } from "./pin-lock";
import { hasManifest } from "./pin-manifest";
import type { ReleaseLedger } from "./release-ledger";

/** One `<name>/v<major>` folder of .proto files under a proto root. */
export interface ContractFolder {
  name: string;
  major: number;
  /** Repository-relative: `sources/proto/source_service/v1`. */
  path: string;
  /** The proto root it sits in: `sources/proto`. */
  root: string;
  /** True when a lock beside the root says it is a vendored copy. */
  vendored: boolean;
  files: string[];
}

const VERSIONED = /^(.*?)(?:^|\/)proto\/([^/]+)\/v(\d+)\/[^/]+\.proto$/;

/** Every .proto file of the work tree (tracked or new, never ignored), repository-relative. */
export function listProtoFiles(repo: GitRepo, under: readonly string[] = []): string[] {
  const patterns = under.length > 0 ? under : ["."];
  return repo
    .run(["ls-files", "--cached", "--others", "--exclude-standard", "--", ...patterns])
    .split("\n")
    .filter((line) => line.endsWith(".proto"))
    .sort();
}

/** Groups the repository's .proto files into contract folders, marking vendored copies. */
export function listContractFolders(repo: GitRepo): ContractFolder[] {
  const folders = new Map<string, ContractFolder>();
  const lockCache = new Map<string, Set<string>>();
  const vendoredPaths = (dir: string): Set<string> => {
    let paths = lockCache.get(dir);
    if (!paths) {
      const lock = hasManifest(repo.root, dir) ? (readLock(repo.root, dir) ?? []) : [];
      paths = new Set(lock.map((entry) => posix.join(dir, entry.path)));
      lockCache.set(dir, paths);
    }
    return paths;
  };
  for (const file of listProtoFiles(repo)) {
    const match = VERSIONED.exec(file);
    if (!match) continue;
    const [, owner = "", name = "", major = "0"] = match;
    const root = posix.join(owner, "proto");
    const path = posix.join(root, name, `v${major}`);
    let folder = folders.get(path);
    if (!folder) {
      folder = {
        name,
        major: Number(major),
        path,
        root,
        vendored: vendoredPaths(owner).has(path),
        files: [],
      };
      folders.set(path, folder);
    }
    folder.files.push(file);
  }
  return [...folders.values()].sort((a, b) => a.path.localeCompare(b.path));
}

/** The folders where contracts are authored (not vendored copies), by `<name>/v<major>`. */
export function ownContracts(repo: GitRepo): ContractFolder[] {
  return listContractFolders(repo).filter((folder) => !folder.vendored);
}

/**
 * The folders where contracts are authored, telling copies apart even where no lock says which
 * folders are copies: once a contract has been released, only folders in the proto root it was
 * released from are its own (a new `v<major+1>/` there included); copies elsewhere are not.
 */
export function authoredContracts(repo: GitRepo, ledger: ReleaseLedger): ContractFolder[] {
  return ownContracts(repo).filter((folder) => {
    const releases = ledger.releasesOf(folder.name);
    return releases.length === 0 || releases.some((release) => rootOfRelease(release.path) === folder.root);
  });
}

/** `proto/event/v1` -> `proto`: the proto root a released `<name>/v<major>` folder sits in. */
export function rootOfRelease(path: string): string {
  return posix.dirname(posix.dirname(path));
}

/**
 * The authored folder(s) a command argument names: a contract name (`event`: every major), or a
 * folder path (`proto/event/v1`), repository-relative. A clear error when nothing matches.
 */
export function findAuthoredContracts(
  repo: GitRepo,
  ledger: ReleaseLedger,
  nameOrPath: string,
): ContractFolder[] {
  const all = authoredContracts(repo, ledger);
  const trimmed = nameOrPath.replace(/\/+$/, "");
  const matches = trimmed.includes("/")
    ? all.filter((folder) => folder.path === trimmed || posix.dirname(folder.path) === trimmed)
    : all.filter((folder) => folder.name === trimmed);
  if (matches.length === 0) {
    const names = [...new Set(all.map((folder) => folder.name))].sort();
    throw new UserError(`no contract named "${nameOrPath}" in this repository`, {
      hint:
        names.length > 0
          ? `contracts: ${names.join(", ")}`
          : "contracts live at <proto root>/<name>/v<major>/<name>.proto",
    });
  }
  const roots = new Set(matches.map((folder) => folder.root));
  if (roots.size > 1) {
    throw new UserError(`"${nameOrPath}" names contracts in several proto roots: ${[...roots].join(", ")}`, {
      hint: `name the folder instead, e.g. ${matches[0]?.path}`,
    });
  }
  return matches.sort((a, b) => a.major - b.major);
}
