import { readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * This package's version from its package.json, read at run time: the file sits outside the
 * TypeScript rootDir, and src/ (tests) and dist/ (builds) are both one level below it.
 */
export const packageVersion: string = (
  JSON.parse(readFileSync(join(__dirname, "..", "package.json"), "utf8")) as { version: string }
).version;
