import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";

/** How a shell command ended. */
export interface ShellOutcome {
  code: number;
  stderr: string;
  /** The kit stopped it (it did not end by itself). */
  stopped: boolean;
}

/** A shell command the kit started: setup, teardown, a source's feed, a scenario's server. */
export interface ShellRun {
  /** Resolves when the command has ended, by itself or stopped. */
  readonly done: Promise<ShellOutcome>;
  /** The first line it writes on stdout; undefined when it ends or `timeoutMs` passes first. */
  firstLine(timeoutMs: number): Promise<string | undefined>;
  /** Ends it if it still runs (SIGTERM to its process group, SIGKILL after a grace), and resolves as `done`. */
  stop(): Promise<ShellOutcome>;
}

export interface ShellOptions {
  /** What the command reads on stdin (then end of file). */
  input?: string;
  cwd: string;
  env: Record<string, string>;
}

/** How long a stopped command may take to go after SIGTERM. */
const STOP_GRACE_MS = 5000;
const STDERR_KEEP_BYTES = 16 * 1024;

/** Process groups still running: killed should the kit's process exit without stopping them. */
const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) killGroup(child, "SIGKILL");
});

/**
 * Starts `sh -c command` in a process group of its own, so that stopping it also ends whatever
 * it started (a `while read` loop's clients, `xargs -P` children, a server it runs).
 */
export function startShell(command: string, options: ShellOptions): ShellRun {
  const child = spawn("sh", ["-c", command], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
    detached: true,
  });
  running.add(child);
  let stderr = "";
  let stopped = false;
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-STDERR_KEEP_BYTES);
  });
  const lines: string[] = [];
  const lineWaiters = new Set<() => void>();
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
    if (lines.length === 0) {
      lines.push(line);
      for (const wake of lineWaiters) wake();
    }
  });
  const done = new Promise<ShellOutcome>((resolve) => {
    child.once("error", (error) => {
      running.delete(child);
      resolve({ code: 127, stderr: error.message, stopped });
    });
    // "close", not "exit": the stderr of the command and of what it started has been read.
    child.once("close", (code) => {
      running.delete(child);
      for (const wake of lineWaiters) wake();
      resolve({ code: code ?? 1, stderr, stopped });
    });
  });
  child.stdin?.on("error", () => undefined);
  child.stdin?.end(options.input ?? "");
  let ended = false;
  void done.then(() => {
    ended = true;
  });

  return {
    done,
    firstLine(timeoutMs) {
      if (lines.length > 0 || ended) return Promise.resolve(lines[0]);
      return new Promise((resolve) => {
        const timer = setTimeout(finish, timeoutMs);
        function finish(): void {
          clearTimeout(timer);
          lineWaiters.delete(finish);
          resolve(lines[0]);
        }
        lineWaiters.add(finish);
        void done.then(finish);
      });
    },
    async stop() {
      if (ended) return done;
      stopped = true;
      killGroup(child, "SIGTERM");
      const timer = setTimeout(() => killGroup(child, "SIGKILL"), STOP_GRACE_MS);
      const outcome = await done;
      clearTimeout(timer);
      return outcome;
    },
  };
}

/** Runs `sh -c command` to its end. */
export function runShell(command: string, options: ShellOptions): Promise<ShellOutcome> {
  return startShell(command, options).done;
}

/** The last line of what a command wrote on stderr, for a message. */
export function lastLine(text: string): string {
  return text.trim().split("\n").at(-1) ?? "";
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is gone already.
  }
}
