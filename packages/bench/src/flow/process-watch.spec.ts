import { spawn } from "node:child_process";
import { once } from "node:events";
import { cpuAt, cpuSeconds, ProcessWatch } from "./process-watch";

/**
 * Keeps this thread busy until the process itself has used `ms` more CPU time: work measured in
 * CPU, not wall time, so a crowded machine makes the test slower, never wrong.
 */
function burnCpu(ms: number): void {
  const until = process.cpuUsage().user + ms * 1000;
  while (process.cpuUsage().user < until) Math.sqrt(Math.random());
}

describe("process usage from /proc", () => {
  it("reads this process's CPU time, and it grows with work done", () => {
    const before = cpuSeconds(process.pid) as number;
    expect(before).toBeGreaterThan(0);
    burnCpu(50);
    // The kernel counts in ticks (10 ms): 50 ms of CPU spent must show as growth, however loaded.
    expect(cpuSeconds(process.pid) as number).toBeGreaterThan(before);
    expect(cpuSeconds(2 ** 22 + 12345)).toBeUndefined();
  });

  it("names a child by its command line and keeps its peak memory and CPU after it exits", async () => {
    const child = spawn(process.execPath, [
      "-e",
      "const a = Buffer.alloc(64 * 1024 * 1024, 1); const t = process.cpuUsage().user + 300000; while (process.cpuUsage().user < t) a[0]++;",
      "watched-child",
    ]);
    const watch = new ProcessWatch(process.pid, 20);
    await once(child, "exit");
    const usage = watch.stop();
    const seen = usage.find((entry) => entry.pid === child.pid);
    expect(seen?.command).toContain("watched-child");
    expect(seen?.bytes).toBeGreaterThan(64 * 1024 * 1024);
    // Its CPU time is kept from /proc after it exited (the amount is the bench's business, not the test's).
    expect(Number.isFinite(seen?.cpuSeconds)).toBe(true);
    expect(usage[0]?.pid).toBe(process.pid);
  });
});

describe("CPU time at a moment between samples", () => {
  const samples = [
    { atMs: 1000, cpuSeconds: 1 },
    { atMs: 2000, cpuSeconds: 3 },
    { atMs: 3000, cpuSeconds: 3.5 },
  ];

  it("interpolates between the samples around it, keeps the last reading after them, and gives no guess before them", () => {
    expect(cpuAt(samples, 1500)).toBe(2);
    expect(cpuAt(samples, 2000)).toBe(3);
    expect(cpuAt(samples, 1000)).toBe(1);
    expect(cpuAt(samples, 2500)).toBe(3.25);
    expect(cpuAt(samples, 999)).toBeNaN();
    expect(cpuAt(samples, 3001)).toBe(3.5);
    expect(cpuAt([], 3001)).toBeNaN();
  });

  it("gives the CPU a watched process used within a window of wall-clock time", async () => {
    const watch = new ProcessWatch(process.pid, 10);
    const from = Date.now();
    burnCpu(100);
    const to = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 30));
    watch.stop();
    // At least what was burnt, give or take the kernel's 10 ms ticks at each end.
    expect(watch.cpuSecondsBetween(process.pid, from, to)).toBeGreaterThan(0.07);
  });
});
