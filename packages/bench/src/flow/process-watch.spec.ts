import { spawn } from "node:child_process";
import { once } from "node:events";
import { cpuSeconds, ProcessWatch } from "./process-watch";

/** Keeps this thread busy for `ms` of wall time (CPU time the kernel must account). */
function burn(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) Math.sqrt(Math.random());
}

describe("process usage from /proc", () => {
  it("reads this process's CPU time, and it grows with work done", () => {
    const before = cpuSeconds(process.pid) as number;
    expect(before).toBeGreaterThan(0);
    burn(200);
    // At least half of the busy time lands on this process even on a crowded machine.
    expect((cpuSeconds(process.pid) as number) - before).toBeGreaterThanOrEqual(0.1);
    expect(cpuSeconds(2 ** 22 + 12345)).toBeUndefined();
  });

  it("names a child by its command line and keeps its peak memory and CPU after it exits", async () => {
    const child = spawn(process.execPath, [
      "-e",
      "const a = Buffer.alloc(64 * 1024 * 1024, 1); const t = Date.now() + 300; while (Date.now() < t) a[0]++;",
      "watched-child",
    ]);
    const watch = new ProcessWatch(process.pid, 20);
    await once(child, "exit");
    const usage = watch.stop();
    const seen = usage.find((entry) => entry.pid === child.pid);
    expect(seen?.command).toContain("watched-child");
    expect(seen?.bytes).toBeGreaterThan(64 * 1024 * 1024);
    expect(seen?.cpuSeconds).toBeGreaterThan(0);
    expect(usage[0]?.pid).toBe(process.pid);
  });
});
