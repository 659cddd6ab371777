import { spawn } from "node:child_process";
import { once } from "node:events";
import { cpuSeconds, ProcessWatch } from "./process-watch";

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
