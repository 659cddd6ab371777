import { readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * The version in the package.json of the package at `packageDir`, read at run time. A service
 * passes `join(__dirname, "..")`: its package.json sits outside the TypeScript rootDir, and src/
 * (tests) and dist/ (builds) are both one level below it.
 */
export function readPackageVersion(packageDir: string): string {
  return (JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as { version: string }).version;
}
