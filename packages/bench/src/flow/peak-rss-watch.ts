import { readFileSync } from "node:fs";

/**
 * Peak resident memory of a process and its children, read from Linux's /proc: VmHWM is the
 * kernel's own high-water mark, so polling only has to catch each process before it exits.
 */
export class PeakRssWatch {
  private readonly peaks = new Map<number, { command: string; bytes: number }>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly rootPid: number,
    intervalMs = 100,
  ) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.sample();
  }

  /** Peaks by process: the root first, then its children by command line. */
  stop(): { pid: number; command: string; bytes: number }[] {
    clearInterval(this.timer);
    this.sample();
    return [...this.peaks.entries()].map(([pid, peak]) => ({ pid, ...peak }));
  }

  private sample(): void {
    for (const pid of [this.rootPid, ...childrenOf(this.rootPid)]) {
      const bytes = highWaterMark(pid);
      if (bytes === undefined) continue;
      // The command line is read every time: a child seen between fork and exec still shows its
      // parent's command, and would otherwise be misnamed for good.
      const known = this.peaks.get(pid);
      this.peaks.set(pid, {
        command: commandLine(pid) || known?.command || "",
        bytes: Math.max(bytes, known?.bytes ?? 0),
      });
    }
  }
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

function childrenOf(pid: number): number[] {
  const text = read(`/proc/${pid}/task/${pid}/children`);
  return text ? text.trim().split(/\s+/).filter(Boolean).map(Number) : [];
}

function highWaterMark(pid: number): number | undefined {
  const match = /VmHWM:\s+(\d+) kB/.exec(read(`/proc/${pid}/status`) ?? "");
  return match ? Number(match[1]) * 1024 : undefined;
}

function commandLine(pid: number): string {
  return (read(`/proc/${pid}/cmdline`) ?? "").split("\0").filter(Boolean).join(" ");
}
