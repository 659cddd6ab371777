import type { ChildProcess } from "node:child_process";

// Every child the harness starts is listed here until it exits, so that an exit of the harness
// itself (error, Ctrl-C) can still kill it. Children started `detached` lead their own process
// group (pnpm -> turbo -> tsc): killing the negative pid reaches the grandchildren too, and only them.

interface LiveChild {
  child: ChildProcess;
  ownsProcessGroup: boolean;
}

const live = new Set<LiveChild>();

export function trackChild(child: ChildProcess, ownsProcessGroup: boolean): void {
  const entry = { child, ownsProcessGroup };
  live.add(entry);
  child.once("exit", () => live.delete(entry));
  child.once("error", () => live.delete(entry));
}

export function signalChild(child: ChildProcess, ownsProcessGroup: boolean, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    if (ownsProcessGroup) process.kill(-child.pid, signal);
    else child.kill(signal);
  } catch {
    // Already gone between the check and the signal.
  }
}

export function killLiveChildren(): void {
  for (const { child, ownsProcessGroup } of live) signalChild(child, ownsProcessGroup, "SIGKILL");
}

let installed = false;

/**
 * Kills every live child when the harness exits, even through an uncaught error or Ctrl-C.
 * Installed by the command-line entry point, not on import, so tests keep control of their process.
 */
export function killChildrenOnExit(): void {
  if (installed) return;
  installed = true;
  process.on("exit", killLiveChildren);
  const codes: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      killLiveChildren();
      process.exit(codes[signal]);
    });
  }
}
