import { existsSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type * as grpc from "@grpc/grpc-js";
import type { FamilyName } from "./component";

/** Where a service's package is and what it generated: what `serve*` needs beside the definition. */
export interface ServicePackage {
  /** The generated definition of the family contract, from the package's own src/gen (dist/gen). */
  service: grpc.ServiceDefinition;
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
 * The package of the module `file` and the generated service of `family`'s contract (v1) in it.
 * ts-proto writes `<root>/gen/<family>_service/v1/<family>` exporting `<Family>ServiceService`;
 * `<root>` is the nearest folder holding a `gen/` between `file`'s folder and the package
 * (src/ for the sources and tests, dist/ for the build), so the service's own generated code
 * stays what decodes and encodes its messages, at the contract version it vendored.
 */
export function findServicePackage(file: string, family: FamilyName): ServicePackage {
  const packageDir = packageDirOf(file);
  if (!packageDir) throw new Error(`no package.json above ${file}: pass { service, packageDir } to serve*`);
  const generated = join("gen", `${family}_service`, "v1", family);
  const exportName = `${family[0]?.toUpperCase()}${family.slice(1)}ServiceService`;
  const depth = relative(packageDir, dirname(file)).split(sep).filter(Boolean).length;
  for (let dir = dirname(file), up = 0; up <= depth; dir = dirname(dir), up += 1) {
    const modulePath = resolvable(join(dir, generated));
    if (!modulePath) continue;
    const service = (require(modulePath) as Record<string, grpc.ServiceDefinition | undefined>)[exportName];
    if (!service) throw new Error(`${modulePath} exports no ${exportName}: regenerate it (pnpm generate)`);
    return { service, packageDir };
  }
  throw new Error(
    `no generated ${family}_service contract (${generated}) between ${dirname(file)} and ${packageDir}: ` +
      `vendor it into proto/ and run pnpm generate, or pass { service, packageDir } to serve*`,
  );
}

/** The module path `require` resolves for `path` (.js when built, .ts under a test transform). */
function resolvable(path: string): string | undefined {
  try {
    return require.resolve(path);
  } catch {
    return undefined;
  }
}
