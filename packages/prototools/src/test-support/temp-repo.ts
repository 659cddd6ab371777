import { execFileSync } from "node:child_process";
import {
  copyFileSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { GitRepo } from "../git";

// Tests must not depend on the machine's git identity or signing setup.
const GIT_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: "Flow Test",
  GIT_AUTHOR_EMAIL: "test@flow.invalid",
  GIT_COMMITTER_NAME: "Flow Test",
  GIT_COMMITTER_EMAIL: "test@flow.invalid",
  GIT_CONFIG_NOSYSTEM: "1",
};
delete GIT_ENV.GIT_INDEX_FILE;
delete GIT_ENV.GIT_DIR;
delete GIT_ENV.GIT_WORK_TREE;

/** A throwaway git repository for tests; `remove()` deletes it. */
export class TempRepo {
  readonly repo: GitRepo;

  private constructor(readonly root: string) {
    this.repo = new GitRepo(root);
  }

  static create(prefix = "flow-repo-"): TempRepo {
    const root = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
    const temp = new TempRepo(root);
    temp.git("init", "-q", "-b", "main");
    temp.git("config", "commit.gpgsign", "false");
    temp.git("config", "tag.gpgsign", "false");
    return temp;
  }

  /** Clones `source` (without tags when `noTags`) into a new temporary folder. */
  static clone(source: TempRepo, options: { noTags?: boolean } = {}): TempRepo {
    const root = realpathSync(mkdtempSync(join(tmpdir(), "flow-clone-")));
    execFileSync("git", ["clone", "-q", ...(options.noTags ? ["--no-tags"] : []), source.root, root], {
      env: GIT_ENV,
      stdio: "pipe",
    });
    const temp = new TempRepo(root);
    temp.git("config", "commit.gpgsign", "false");
    return temp;
  }

  /**
   * A clone of the repository at `source`, brought up to its working tree (changed, new and
   * deleted files, committed in the clone): what a clone will look like once that work is
   * committed, with the full history the release ledger points into.
   */
  static cloneWorkingTree(source: string): TempRepo {
    const root = realpathSync(mkdtempSync(join(tmpdir(), "flow-clone-")));
    execFileSync("git", ["clone", "-q", "--no-tags", source, root], { env: GIT_ENV, stdio: "pipe" });
    const list = (...args: string[]) =>
      execFileSync("git", ["ls-files", "-z", ...args], {
        cwd: source,
        env: GIT_ENV,
        encoding: "utf8",
        maxBuffer: 256 << 20,
      })
        .split("\0")
        .filter(Boolean);
    const deleted = new Set(list("--deleted"));
    for (const file of list("--cached", "--others", "--exclude-standard")) {
      const target = join(root, file);
      rmSync(target, { recursive: true, force: true });
      if (deleted.has(file)) continue;
      mkdirSync(dirname(target), { recursive: true });
      const stat = lstatSync(join(source, file));
      if (stat.isSymbolicLink()) symlinkSync(readlinkSync(join(source, file)), target);
      else if (stat.isFile()) copyFileSync(join(source, file), target);
    }
    const temp = new TempRepo(root);
    temp.git("config", "commit.gpgsign", "false");
    temp.commit("the working tree of the cloned repository");
    return temp;
  }

  git(...args: string[]): string {
    return execFileSync("git", args, {
      cwd: this.root,
      env: GIT_ENV,
      encoding: "utf8",
      stdio: "pipe",
    }).trim();
  }

  path(relative: string): string {
    return join(this.root, relative);
  }

  write(relative: string, content: string): void {
    const file = this.path(relative);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
  }

  read(relative: string): string {
    return readFileSync(this.path(relative), "utf8");
  }

  /** Stages everything and commits; returns the commit id. */
  commit(message: string): string {
    this.git("add", "-A");
    this.git("commit", "-q", "--allow-empty", "-m", message);
    return this.git("rev-parse", "HEAD");
  }

  tags(): string[] {
    return this.git("tag", "--list").split("\n").filter(Boolean);
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
