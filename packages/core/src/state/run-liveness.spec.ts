import { isRunAbandoned, liveRunError, liveRunsOf, RUN_STALE_AFTER_MS } from "./run-liveness";
import type { RunRecord } from "./state-store";

/** A running run of pipeline "p", pid 4242 on host "here", changed by `overrides`. */
function runRecord(overrides: Partial<RunRecord>): RunRecord {
  const startedAt = new Date("2026-03-01T12:00:00Z");
  return {
    runId: "r",
    pipeline: "p",
    pipelineFile: "p.yaml",
    status: "running",
    startedAt,
    endedAt: undefined,
    error: undefined,
    pid: 4242,
    host: "here",
    heartbeatAt: startedAt,
    supersededBy: undefined,
    stages: [],
    ...overrides,
  };
}

describe("isRunAbandoned", () => {
  const heartbeatAt = new Date("2026-03-01T12:00:00Z");
  const run = runRecord({});
  const alive = () => true;
  const dead = () => false;
  const at = (ms: number) => new Date(heartbeatAt.getTime() + ms);

  it("trusts a running run with a recent heartbeat whose process lives", () => {
    expect(isRunAbandoned(run, { now: at(1000), thisHost: "here", isProcessAlive: alive })).toBe(false);
  });

  it("calls a run abandoned when its process on this host is gone", () => {
    expect(isRunAbandoned(run, { now: at(1000), thisHost: "here", isProcessAlive: dead })).toBe(true);
  });

  it("cannot check another host's process, so relies on the heartbeat there", () => {
    expect(isRunAbandoned(run, { now: at(1000), thisHost: "there", isProcessAlive: dead })).toBe(false);
    expect(
      isRunAbandoned(run, { now: at(RUN_STALE_AFTER_MS + 1), thisHost: "there", isProcessAlive: alive }),
    ).toBe(true);
  });

  it("calls a silent run abandoned even if its pid is taken again by another process", () => {
    expect(
      isRunAbandoned(run, { now: at(RUN_STALE_AFTER_MS), thisHost: "here", isProcessAlive: alive }),
    ).toBe(false);
    expect(
      isRunAbandoned(run, { now: at(RUN_STALE_AFTER_MS + 1), thisHost: "here", isProcessAlive: alive }),
    ).toBe(true);
    expect(
      isRunAbandoned(run, { now: at(5000), staleAfterMs: 4000, thisHost: "here", isProcessAlive: alive }),
    ).toBe(true);
  });

  it("never calls a finished run abandoned", () => {
    for (const status of ["succeeded", "failed", "stopped"] as const) {
      expect(
        isRunAbandoned({ ...run, status }, { now: at(10 * RUN_STALE_AFTER_MS), isProcessAlive: dead }),
      ).toBe(false);
    }
  });
});

describe("liveRunsOf", () => {
  const now = new Date("2026-03-01T12:00:10Z");
  const base = runRecord({
    runId: "live",
    pipeline: "orders",
    pipelineFile: "orders.yaml",
    pid: 100,
    heartbeatAt: new Date("2026-03-01T12:00:09Z"),
  });
  const runs: RunRecord[] = [
    base,
    { ...base, runId: "crashed", pid: 200 },
    { ...base, runId: "silent", host: "elsewhere", heartbeatAt: new Date("2026-03-01T11:00:00Z") },
    { ...base, runId: "done", status: "succeeded", endedAt: now },
  ];
  const asked: unknown[] = [];
  const store = {
    listRuns: async (query: unknown) => {
      asked.push(query);
      return runs;
    },
  };

  it("keeps the running runs whose process lives and heartbeats, for that pipeline", async () => {
    const live = await liveRunsOf(store, "orders", {
      now,
      thisHost: "here",
      isProcessAlive: (pid) => pid === 100,
    });
    expect(live.map((run) => run.runId)).toEqual(["live"]);
    expect(asked).toEqual([{ pipeline: "orders" }]);
  });

  it("says which run is in the way, where, and how to get it out of the way", () => {
    const error = liveRunError(base, "start another run of it");
    expect(error.message).toBe(
      'cannot start another run of it: pipeline "orders" is running (run live, pid 100 on here, started 2026-03-01T12:00:00.000Z)',
    );
    expect(error.hint).toMatch(/kill -INT 100 on here/);
    expect(error.hint).toMatch(/30 s after its last heartbeat/);
  });
});
