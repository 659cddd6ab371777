import { randomBytes } from "node:crypto";
import { closeSync, openSync, type Stats, statSync, unlinkSync } from "node:fs";
import { dirname, join } from "node:path";

/**
 * Why a file could not be written at `path`, or undefined when it can: it exists and opens for
 * appending (which changes nothing), or the nearest folder that exists lets a file be created
 * (tried for real with a file removed at once; permission bits alone say nothing for root, a
 * read-only mount or /proc). Creates no folder and leaves nothing behind.
 */
export function whyNotWritable(path: string): string | undefined {
  const existing = statOrMissing(path);
  if (existing === "missing") return whyNoFileCanBeCreated(dirname(path));
  if (existing instanceof Error) return `cannot look at it: ${systemReason(existing)}`;
  if (existing.isDirectory()) return "it is a folder, not a file";
  try {
    closeSync(openSync(path, "a"));
    return undefined;
  } catch (error) {
    return `cannot open it for writing: ${systemReason(error)}`;
  }
}

function whyNoFileCanBeCreated(folder: string): string | undefined {
  const found = statOrMissing(folder);
  if (found === "missing") {
    const parent = dirname(folder);
    return parent === folder ? `${folder} does not exist` : whyNoFileCanBeCreated(parent);
  }
  if (found instanceof Error) return `cannot look at ${folder}: ${systemReason(found)}`;
  if (!found.isDirectory()) return `${folder} is a file, not a folder`;
  const probe = join(folder, `.flow-write-check-${process.pid}-${randomBytes(4).toString("hex")}`);
  try {
    closeSync(openSync(probe, "wx"));
  } catch (error) {
    return `cannot create files in ${folder}: ${systemReason(error)}`;
  }
  unlinkSync(probe);
  return undefined;
}

function statOrMissing(path: string): Stats | "missing" | Error {
  try {
    return statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // ENOTDIR: a part of the path is a file; the walk up finds which and says so.
    return code === "ENOENT" || code === "ENOTDIR" ? "missing" : (error as Error);
  }
}

/** `permission denied (EACCES)` from Node's `EACCES: permission denied, open '/x'`. */
export function systemReason(error: unknown): string {
  const { code, message } = error as NodeJS.ErrnoException;
  const text = String(message ?? error)
    .replace(/^[A-Z]+: /, "")
    .replace(/, \w+ '.*'$/, "");
  return code && !text.includes(code) ? `${text} (${code})` : text;
}
