import { type ChildProcess, spawn } from "node:child_process";
import { dirname, join } from "node:path";

/** The built `flow` command of this workspace. */
export const FLOW_BIN = join(dirname(require.resolve("@flow/cli/package.json")), "dist", "bin.js");

/** The built program of a workspace service package (what `use:` spawns). */
export function serviceMain(packageName: string): string {
  return join(dirname(require.resolve(`${packageName}/package.json`)), "dist", "main.js");
}

export const RECORDING_CONSUMER = join(
  __dirname,
  "..",
  "..",
  "dist",
  "fixtures",
  "recording-consumer-main.js",
);

export interface FlowResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A running `flow` process whose output is collected. */
export class FlowProcess {
  readonly child: ChildProcess;
  stdout = "";
  stderr = "";
  private readonly exited: Promise<FlowResult>;

  /** `prefix` runs flow under another program, e.g. `["timeout", "-s", "TERM", "60"]`. */
  constructor(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; prefix?: string[] }) {
    const [program, ...programArgs] = [...(options.prefix ?? []), process.execPath, FLOW_BIN, ...args];
    this.child = spawn(program as string, programArgs, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stdout?.on("data", (chunk: Buffer) => {
      this.stdout += chunk.toString();
    });
    this.child.stderr?.on("data", (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
    this.exited = new Promise((resolve) => {
      this.child.once("exit", (code, signal) =>
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr }),
      );
    });
  }

  /** Resolves once stderr has a line matching `pattern` (logs are JSON lines on stderr). */
  waitForLog(pattern: RegExp): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const line = this.stderr.split("\n").find((candidate) => pattern.test(candidate));
        if (line) {
          this.child.stderr?.off("data", onData);
          resolve(line);
          return true;
        }
        return false;
      };
      const onData = (): void => {
        check();
      };
      if (check()) return;
      this.child.stderr?.on("data", onData);
      this.exited.then((result) =>
        reject(new Error(`flow exited (${result.code}) before logging ${pattern}:\n${result.stderr}`)),
      );
    });
  }

  wait(): Promise<FlowResult> {
    return this.exited;
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}

/** Runs `flow <args>` to completion. */
export function runFlow(
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<FlowResult> {
  return new FlowProcess(args, options).wait();
}
