import { execFileSync } from "node:child_process";
import { UserError } from "@flow/errors";

export interface GitOptions {
  env?: NodeJS.ProcessEnv;
  input?: string;
}

/** A failed git command, with what git said. */
export class GitCommandError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly stderr: string,
    readonly status: number | null,
  ) {
    super(`git ${args.join(" ")} failed (${status}): ${stderr.trim()}`);
    this.name = "GitCommandError";
  }
}

/** A git repository's work tree, on which git commands run. */
export class GitRepo {
  constructor(readonly root: string) {}

  /** Opens the repository containing `dir`; a clear error when there is none. */
  static open(dir: string): GitRepo {
    try {
      const top = execFileSync("git", ["rev-parse", "--show-toplevel"], {
        cwd: dir,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      }).trim();
      return new GitRepo(top);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT" && !isGitInstalled()) {
        throw new UserError("git is not installed or not on PATH", { hint: "install git and try again" });
      }
      if (code === "ENOENT") throw new UserError(`${dir}: no such folder`);
      throw new UserError(`${dir} is not inside a git repository`, {
        hint: "run from a git work tree, or pass --root <repository folder>",
      });
    }
  }

  /** Runs git and returns its stdout (untrimmed). Throws GitCommandError when git fails. */
  run(args: readonly string[], options: GitOptions = {}): string {
    try {
      return execFileSync("git", args, {
        cwd: this.root,
        encoding: "utf8",
        env: options.env ?? process.env,
        input: options.input,
        maxBuffer: 256 * 1024 * 1024,
        stdio: ["pipe", "pipe", "pipe"],
      });
    } catch (error) {
      const failure = error as { stderr?: string | Buffer; status?: number | null };
      throw new GitCommandError(args, String(failure.stderr ?? ""), failure.status ?? null);
    }
  }

  /** Like run, trimmed; undefined instead of an error when git fails. */
  tryRun(args: readonly string[], options: GitOptions = {}): string | undefined {
    try {
      return this.run(args, options).trim();
    } catch (error) {
      if (error instanceof GitCommandError) return undefined;
      throw error;
    }
  }

  /** The object id `rev` names, or undefined when it names nothing in this repository. */
  resolve(rev: string): string | undefined {
    return this.tryRun(["rev-parse", "--verify", "--quiet", `${rev}^{object}`]);
  }

  /** True when the object exists in this repository's object database. */
  hasObject(id: string): boolean {
    return this.tryRun(["cat-file", "-e", id]) !== undefined;
  }

  objectType(id: string): string | undefined {
    return this.tryRun(["cat-file", "-t", id]);
  }
}

function isGitInstalled(): boolean {
  try {
    execFileSync("git", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
