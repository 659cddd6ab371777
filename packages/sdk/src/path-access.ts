import { constants, type Stats } from "node:fs";
import { access, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { type ConfigIssue, errorIssue } from "./component";

/** What is at `path`, or undefined when nothing is (ENOENT, or ENOTDIR: a parent is a file). */
export async function statOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw error;
  }
}

/** Whether this process may write the file, or create entries in the folder, at `path`. */
export async function canWrite(path: string): Promise<boolean> {
  try {
    await access(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Every reason a file that does not exist yet cannot be created at `path`, as issues at
 * `configPath`: the nearest folder that exists must be a writable folder, and missing folders on
 * the way are only made with the service's `createDirectories` option.
 */
export async function creatableFileIssues(
  configPath: string,
  path: string,
  createDirectories: boolean,
): Promise<ConfigIssue[]> {
  let folder = dirname(path);
  let folderStats = await statOrUndefined(folder);
  if (!folderStats && !createDirectories)
    return [errorIssue(configPath, `folder ${folder} does not exist (or set createDirectories: true)`)];
  while (!folderStats && dirname(folder) !== folder) {
    folder = dirname(folder);
    folderStats = await statOrUndefined(folder);
  }
  if (!folderStats?.isDirectory())
    return [errorIssue(configPath, `cannot create ${path}: ${folder} is not a folder`)];
  if (!(await canWrite(folder)))
    return [errorIssue(configPath, `cannot create ${path}: folder ${folder} is not writable`)];
  return [];
}
