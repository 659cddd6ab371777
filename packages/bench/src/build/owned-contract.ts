import * as fs from "node:fs";
import * as path from "node:path";

// Finds a contract that a workspace package owns (its source lives in the package's proto/, it is
// not a vendored copy), and the packages that vendor it. Editing such a contract is a real change a
// developer makes, and it passes the vendor check, unlike an edit to a vendored copy, which the check
// rejects by design.

export interface OwnedContract {
  /** Repository-relative path of the .proto file. */
  file: string;
  /** Contract name: the first folder under proto/, e.g. "registry_service". */
  name: string;
  ownerPackage: string;
  /** Packages whose proto-pins.yaml pins this contract (they vendor a released copy). */
  vendoredBy: string[];
}

const WORKSPACE_FOLDERS = ["packages", "sources", "processors", "consumers"];

interface WorkspacePackage {
  dir: string;
  name: string;
}

export function findOwnedContract(repoDir: string): OwnedContract | undefined {
  const packages = listWorkspacePackages(repoDir);
  for (const pkg of packages) {
    const protoDir = path.join(pkg.dir, "proto");
    if (!fs.existsSync(protoDir)) continue;
    const vendored = vendoredPaths(pkg.dir);
    const owned = listProtoFiles(protoDir)
      .map((file) => path.relative(pkg.dir, file).split(path.sep).join("/"))
      .filter((relative) => !vendored.some((prefix) => relative.startsWith(`${prefix}/`)))
      .sort();
    const first = owned[0];
    if (first === undefined) continue;
    const name = first.split("/")[1] as string;
    return {
      file: path.relative(repoDir, path.join(pkg.dir, first)).split(path.sep).join("/"),
      name,
      ownerPackage: pkg.name,
      vendoredBy: packages.filter((other) => pinsContract(other.dir, name)).map((other) => other.name),
    };
  }
  return undefined;
}

function listWorkspacePackages(repoDir: string): WorkspacePackage[] {
  const packages: WorkspacePackage[] = [];
  for (const folder of WORKSPACE_FOLDERS) {
    const parent = path.join(repoDir, folder);
    if (!fs.existsSync(parent)) continue;
    for (const entry of fs.readdirSync(parent, { withFileTypes: true })) {
      const manifest = path.join(parent, entry.name, "package.json");
      if (!entry.isDirectory() || !fs.existsSync(manifest)) continue;
      const { name } = JSON.parse(fs.readFileSync(manifest, "utf8")) as { name?: string };
      packages.push({ dir: path.join(parent, entry.name), name: name ?? entry.name });
    }
  }
  return packages;
}

/** `path:` entries of the package's pin lock: the folders under it that are vendored copies. */
function vendoredPaths(packageDir: string): string[] {
  const lock = path.join(packageDir, "proto-pins.lock.yaml");
  if (!fs.existsSync(lock)) return [];
  return [...fs.readFileSync(lock, "utf8").matchAll(/^\s*path:\s*["']?([^"'\s]+)/gm)].map((match) =>
    (match[1] as string).replace(/\/+$/, ""),
  );
}

function pinsContract(packageDir: string, name: string): boolean {
  const pins = path.join(packageDir, "proto-pins.yaml");
  if (!fs.existsSync(pins)) return false;
  return new RegExp(`^\\s*-\\s*["']?${name}@`, "m").test(fs.readFileSync(pins, "utf8"));
}

function listProtoFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...listProtoFiles(full));
    else if (entry.name.endsWith(".proto")) files.push(full);
  }
  return files;
}
