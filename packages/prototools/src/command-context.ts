import { existsSync } from "node:fs";
import { relative, resolve } from "node:path";
import { UserError } from "@flow/errors";
import { GitRepo } from "./git";
import { ReleaseLedger } from "./release-ledger";
import { type RepoSettings, readRepoSettings } from "./repo-settings";

/** What every `flow proto` command accepts to find the repository and its conventions. */
export interface CommandScope {
  /** The repository (any folder inside it); the one containing cwd when absent. */
  root?: string;
  /** Overrides the repository's prefix setting (flow.proto.yaml). */
  prefix?: string;
  /** Where relative arguments start; process.cwd() when absent. */
  cwd?: string;
}

export interface CommandContext {
  repo: GitRepo;
  settings: RepoSettings;
  ledger: ReleaseLedger;
  /** Where relative path arguments start: cwd, or the repository root when --root was given. */
  base: string;
}

export function openCommandContext(scope: CommandScope): CommandContext {
  const cwd = scope.cwd ?? process.cwd();
  const start = scope.root ? resolve(cwd, scope.root) : cwd;
  if (!existsSync(start)) throw new UserError(`${scope.root ?? start}: no such folder`);
  const repo = GitRepo.open(start);
  return {
    repo,
    settings: readRepoSettings(repo.root, scope.prefix),
    ledger: ReleaseLedger.read(repo.root),
    base: scope.root ? repo.root : cwd,
  };
}

/** A path argument as a repository-relative path ("" for the root); it must exist unless `mayBeMissing`. */
export function repoPath(
  context: CommandContext,
  argument: string,
  options: { mayBeMissing?: boolean } = {},
): string {
  const absolute = resolve(context.base, argument);
  const path = relative(context.repo.root, absolute).split("\\").join("/");
  if (path.startsWith("..") || resolve(context.repo.root, path) !== absolute) {
    throw new UserError(`${argument} is outside the repository ${context.repo.root}`);
  }
  if (!options.mayBeMissing && !existsSync(absolute)) {
    throw new UserError(`${argument}: no such file or folder`, {
      hint: `paths are relative to ${context.base}`,
    });
  }
  return path;
}
