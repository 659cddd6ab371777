import { readFileSync } from "node:fs";

/** What a process used, as far as the watch saw it. */
export interface ProcessUsage {
  pid: number;
  command: string;
  /** Peak resident memory (VmHWM). */
  bytes: number;
  /** CPU time, user + system, at the last sample before the process exited. */
  cpuSeconds: number;
}

/** One reading of a process's cumulative CPU time, at a wall-clock time (Date.now()). */
export interface CpuSample {
  atMs: number;
  cpuSeconds: number;
}

/**
 * Peak resident memory and CPU time of a process and its children, read from Linux's /proc:
 * VmHWM is the kernel's own high-water mark, so polling only has to catch each process before it
 * exits; CPU time is cumulative, so the last sample misses at most one interval (shutdown).
 */
export class ProcessWatch {
  private readonly peaks = new Map<number, Omit<ProcessUsage, "pid">>();
  private readonly cpuSamples = new Map<number, CpuSample[]>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly rootPid: number,
    intervalMs = 100,
  ) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.sample();
  }

  /** Usage by process: the root first, then its children by command line. */
  stop(): ProcessUsage[] {
    clearInterval(this.timer);
    this.sample();
    return [...this.peaks.entries()].map(([pid, peak]) => ({ pid, ...peak }));
  }

  /**
   * CPU seconds `pid` used between two wall-clock times (Date.now() of any process on this
   * machine), interpolated linearly between the samples around each end: the CPU of a timed
   * window alone, without start-up and shutdown. NaN when the samples do not cover the window.
   */
  cpuSecondsBetween(pid: number, fromMs: number, toMs: number): number {
    const samples = this.cpuSamples.get(pid) ?? [];
    return cpuAt(samples, toMs) - cpuAt(samples, fromMs);
  }

  private sample(): void {
    for (const pid of [this.rootPid, ...childrenOf(this.rootPid)]) {
      const bytes = highWaterMark(pid);
      if (bytes === undefined) continue;
      // The command line is read every time: a child seen between fork and exec still shows its
      // parent's command, and would otherwise be misnamed for good.
      const known = this.peaks.get(pid);
      const cpu = cpuSeconds(pid);
      this.peaks.set(pid, {
        command: commandLine(pid) || known?.command || "",
        bytes: Math.max(bytes, known?.bytes ?? 0),
        cpuSeconds: cpu ?? known?.cpuSeconds ?? Number.NaN,
      });
      if (cpu !== undefined) {
        const samples = this.cpuSamples.get(pid);
        const sample = { atMs: Date.now(), cpuSeconds: cpu };
        if (samples === undefined) this.cpuSamples.set(pid, [sample]);
        else samples.push(sample);
      }
    }
  }
}

/** The CPU time at `atMs`, between the samples taken before and after it (in time order). */
export function cpuAt(samples: readonly CpuSample[], atMs: number): number {
  const after = samples.findIndex((sample) => sample.atMs >= atMs);
  // After the last sample: the process exited (a process that ends as soon as its work is done),
  // so its last reading stands, short of at most one interval's CPU.
  if (after < 0) return samples.at(-1)?.cpuSeconds ?? Number.NaN;
  // Before the first sample: no guess.
  if (after === 0) return samples[0]?.atMs === atMs ? samples[0].cpuSeconds : Number.NaN;
  const before = samples[after - 1] as CpuSample;
  const next = samples[after] as CpuSample;
  const share = (atMs - before.atMs) / (next.atMs - before.atMs);
  return before.cpuSeconds + share * (next.cpuSeconds - before.cpuSeconds);
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

/** Linux reports /proc times in USER_HZ ticks, which the kernel ABI fixes at 100 per second. */
const TICKS_PER_SECOND = 100;

/** User + system CPU seconds a live process has used so far; undefined once it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  const text = read(`/proc/${pid}/stat`);
  if (!text) return undefined;
  // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const user = Number(fields[11]);
  const system = Number(fields[12]);
  return Number.isFinite(user + system) ? (user + system) / TICKS_PER_SECOND : undefined;
}
