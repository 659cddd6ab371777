import { spawn } from "node:child_process";
import { signalChild, trackChild } from "../live-children";

// Runs a command to completion and times it. The command leads its own process group so that a
// timeout or an aborted harness kills pnpm, turbo and every tsc they started, not just pnpm.

export interface CommandResult {
  elapsedSeconds: number;
  stdout: string;
  stderr: string;
}

export interface CommandOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
}

const OUTPUT_TAIL_BYTES = 8192;

export class CommandFailedError extends Error {}

export function runTimedCommand(
  command: string,
  args: readonly string[],
  options: CommandOptions,
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, [...args], {
      cwd: options.cwd,
      env: options.env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    trackChild(child, true);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout = (stdout + chunk.toString("utf8")).slice(-OUTPUT_TAIL_BYTES);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString("utf8")).slice(-OUTPUT_TAIL_BYTES);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      signalChild(child, true, "SIGKILL");
    }, options.timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(new CommandFailedError(`${command} ${args.join(" ")}: ${error.message}`));
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      const elapsedSeconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code === 0) {
        resolve({ elapsedSeconds, stdout, stderr });
        return;
      }
      const why = timedOut ? `timed out after ${options.timeoutMs} ms` : `exited with ${code ?? signal}`;
      // pnpm repeats the failure on stdout and stderr; show each line once.
      const lines = [...new Set(`${stdout}\n${stderr}`.split("\n").map((line) => line.trimEnd()))];
      const tail = lines
        .filter((line) => line !== "")
        .slice(-15)
        .join("\n");
      reject(new CommandFailedError(`\`${command} ${args.join(" ")}\` in ${options.cwd} ${why}:\n${tail}`));
    });
  });
}
