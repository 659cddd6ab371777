import { posix } from "node:path";
import type { GitRepo } from "./git";
import { readLock } from "./pin-lock";
import { hasManifest } from "./pin-manifest";

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
      folder = { name, major: Number(major), path, root, vendored: vendoredPaths(owner).has(path), files: [] };
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
