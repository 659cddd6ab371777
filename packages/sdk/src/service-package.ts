import { existsSync, readdirSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type * as grpc from "@grpc/grpc-js";
import type { FamilyName } from "./component";

/** One major of a family contract and its generated service definition. */
export interface ServedMajor {
  major: number;
  service: grpc.ServiceDefinition;
}

/** Where a service's package is and what it generated: what `serve*` needs beside the definition. */
export interface ServicePackage {
  /**
   * The generated definitions of the family contract, one per major the package vendored, lowest
   * major first, from the package's own src/gen (dist/gen).
   */
  services: ServedMajor[];
  /** The folder of the package.json: its proto/ feeds reflection, its lock the contract version. */
  packageDir: string;
}

/**
 * The file of the function that called `callee`, read from the V8 call stack, so `serve*` can
 * find the service's package without being told (`main.ts` is one call). Undefined when the
 * stack names no file (code built by `eval`, a REPL).
 */
export function callerFile(callee: (...args: never[]) => unknown): string | undefined {
  const original = Error.prepareStackTrace;
  let frames: NodeJS.CallSite[] = [];
  try {
    Error.prepareStackTrace = (_error, stack) => stack;
    const holder: { stack?: NodeJS.CallSite[] } = {};
    Error.captureStackTrace(holder, callee);
    frames = holder.stack ?? [];
  } finally {
    Error.prepareStackTrace = original;
  }
  const file = frames.find((frame) => frame.getFileName())?.getFileName() ?? undefined;
  return file?.startsWith("file:") ? fileURLToPath(file) : file;
}

/** The folder of the nearest package.json at or above `file`'s folder. */
export function packageDirOf(file: string): string | undefined {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * The package of the module `file` and the generated services of `family`'s contract in it, one per
 * major. ts-proto writes `<root>/gen/<family>_service/v<major>/<family>` exporting
 * `<Family>ServiceService`; `<root>` is the nearest folder holding such a `gen/` between `file`'s
 * folder and the package (src/ for the sources and tests, dist/ for the build), so the service's
 * own generated code stays what decodes and encodes its messages, at the contract versions it
 * vendored.
 */
export function findServicePackage(file: string, family: FamilyName): ServicePackage {
  const packageDir = packageDirOf(file);
  if (!packageDir) throw new Error(`no package.json above ${file}: pass { service, packageDir } to serve*`);
  const contractDir = join("gen", `${family}_service`);
  const exportName = `${family[0]?.toUpperCase()}${family.slice(1)}ServiceService`;
  const depth = relative(packageDir, dirname(file)).split(sep).filter(Boolean).length;
  for (let dir = dirname(file), up = 0; up <= depth; dir = dirname(dir), up += 1) {
    const services: ServedMajor[] = [];
    for (const major of majorFolders(join(dir, contractDir))) {
      const modulePath = resolvable(join(dir, contractDir, `v${major}`, family));
      if (!modulePath) continue;
      const service = (require(modulePath) as Record<string, grpc.ServiceDefinition | undefined>)[exportName];
      if (!service) throw new Error(`${modulePath} exports no ${exportName}: regenerate it (pnpm generate)`);
      services.push({ major, service });
    }
    if (services.length > 0) return { services, packageDir };
  }
  throw new Error(
    `no generated ${family}_service contract (${join(contractDir, "v<major>", family)}) between ${dirname(file)} and ${packageDir}: ` +
      `vendor it into proto/ and run pnpm generate, or pass { service, packageDir } to serve*`,
  );
}

/** The majors of the `v<major>` folders in `dir`, lowest first; none when there is no `dir`. */
function majorFolders(dir: string): number[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .flatMap((entry) => (/^v[1-9]\d*$/.test(entry) ? [Number(entry.slice(1))] : []))
    .sort((a, b) => a - b);
}

/** The module path `require` resolves for `path` (.js when built, .ts under a test transform). */
function resolvable(path: string): string | undefined {
  try {
    return require.resolve(path);
  } catch {
    return undefined;
  }
}
