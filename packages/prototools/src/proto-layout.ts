/**
 * Where a .proto file sits in the conventions: below a proto root (a folder named `proto`, at
 * the top, in a family folder or in a package) at `<dir>/v<major>/<file>.proto`.
 */
export interface ProtoRootLocation {
  /** The proto root, repository-relative: `sources/proto`. */
  root: string;
  /** The folder holding the root (where a pin manifest would sit): `sources`, or "" at the top. */
  owner: string;
  /** The path below the root: `source_service/v1/source.proto`. */
  relative: string;
}

export interface ContractPath {
  /** The contract folder name: `event`, `source_service`. */
  dir: string;
  major: number;
  /** The file name without `.proto`. */
  file: string;
}

export const CONTRACT_NAME = /^[a-z][a-z0-9_]*$/;
export const SERVICE_SUFFIX = "_service";

/** The proto root a repository-relative path lies in: the first `proto` folder on its way. */
export function locateInProtoRoot(path: string): ProtoRootLocation | undefined {
  const parts = path.split("/");
  const at = parts.indexOf("proto");
  if (at < 0 || at === parts.length - 1) return undefined;
  return {
    root: parts.slice(0, at + 1).join("/"),
    owner: parts.slice(0, at).join("/"),
    relative: parts.slice(at + 1).join("/"),
  };
}

/** Reads `<dir>/v<major>/<file>.proto`; a string saying what is wrong otherwise. */
export function parseContractPath(relative: string): ContractPath | string {
  const parts = relative.split("/");
  if (parts.length !== 3) {
    return `is ${parts.length - 1} folder(s) deep below the proto root; contracts sit at <name>/v<major>/<name>.proto`;
  }
  const [dir = "", version = "", fileName = ""] = parts;
  if (!CONTRACT_NAME.test(dir))
    return `folder "${dir}" is not a contract name (lower_snake_case: a-z, 0-9, _)`;
  const major = /^v([1-9][0-9]*)$/.exec(version);
  if (!major) return `folder "${version}" is not a major version folder (v1, v2, ...)`;
  const file = fileName.replace(/\.proto$/, "");
  return { dir, major: Number(major[1]), file };
}

export function isServiceName(dir: string): boolean {
  return dir.endsWith(SERVICE_SUFFIX) && dir.length > SERVICE_SUFFIX.length;
}

/** The file names a contract folder may hold: `event` in `event/`, `source` (or `source_service`) in `source_service/`. */
export function expectedFileNames(dir: string): string[] {
  return isServiceName(dir) ? [dir.slice(0, -SERVICE_SUFFIX.length), dir] : [dir];
}

export function expectedPackage(prefix: string, dir: string, major: number): string {
  return `${prefix}.${dir}.v${major}`;
}
