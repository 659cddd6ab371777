import { type ChildProcess, spawn } from "node:child_process";
import { copyFileSync, cpSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, sep } from "node:path";
import { directPathSwitch } from "@flow/core";

/**
 * Whether the runs of this test process may use the direct data path: the suite runs twice, the
 * second time with FLOW_DIRECT_PATH=off (jest.direct-path-off.config.js), read as `flow run` reads it.
 */
export const DIRECT_PATH_ON = directPathSwitch(undefined, process.env);

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

/** The repository this workspace is (where pnpm-workspace.yaml is). */
export const REPOSITORY_ROOT = join(dirname(require.resolve("@flow/cli/package.json")), "..", "..");

/**
 * A copy of the repository as the README's install command leaves it, in a temporary folder, so a
 * test can start from a fresh state (no `.flow/` anywhere) without touching the real one: its own
 * root files, scripts/ and examples/, and links to the installed and built node_modules and
 * packages. `env` is what a user who installed that way has: `node` and `npx`, no `pnpm`, no `flow`.
 */
export function repositoryCheckout(prefix: string): {
  path: string;
  env: NodeJS.ProcessEnv;
  remove(): void;
} {
  const path = mkdtempSync(join(tmpdir(), `flow-e2e-${prefix}-`));
  for (const file of ["package.json", "pnpm-workspace.yaml", "README.md"])
    copyFileSync(join(REPOSITORY_ROOT, file), join(path, file));
  for (const folder of ["scripts", "examples", "docs"]) {
    cpSync(join(REPOSITORY_ROOT, folder), join(path, folder), {
      recursive: true,
      filter: (source) => !source.split(sep).includes(".flow"),
    });
  }
  for (const link of ["node_modules", "packages", "sources", "processors", "consumers"])
    symlinkSync(join(REPOSITORY_ROOT, link), join(path, link));
  const env: NodeJS.ProcessEnv = {
    HOME: process.env.HOME,
    TMPDIR: process.env.TMPDIR,
    PATH: [dirname(process.execPath), "/usr/bin", "/bin"].join(delimiter),
    // npx must never fetch a package called "flow" from the registry instead of the local one.
    npm_config_yes: "false",
  };
  // The suite runs with the direct data path on and off (FLOW_DIRECT_PATH, see jest.*.config.js).
  if (process.env.FLOW_DIRECT_PATH !== undefined) env.FLOW_DIRECT_PATH = process.env.FLOW_DIRECT_PATH;
  return { path, env, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Runs one command line as a user pastes it into a shell (`sh -c`). */
export function runShell(
  line: string,
  options: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<FlowResult> {
  return new Promise((resolve) => {
    const child = spawn("/bin/sh", ["-c", line], { cwd: options.cwd, env: options.env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** A port nothing listens on: the OS handed it out, then it was closed again. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
