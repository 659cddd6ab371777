import { ClaimLostError, type StageStats } from "../state";
import type { ConsumerLink } from "./consumer-link";
import { RunProgress } from "./run-progress";
import type { StageCounters } from "./stage-counters";
import { oneSourceStages } from "./test-support/fake-sources";

function progress(options: { runId?: string; save?: () => Promise<void> } = {}) {
  const stages = oneSourceStages();
  const saved: { runId: string; stages: StageStats[] }[] = [];
  const reports: StageCounters[][] = [];
  const claimsLost: Error[] = [];
  const watch = new RunProgress({
    stages,
    store: {
      saveStageStats: async (runId, stats) => {
        saved.push({ runId, stages: [...stats] });
        await options.save?.();
      },
    },
    runId: () => options.runId ?? "run-1",
    onProgress: (counters) => reports.push(counters.map((c) => ({ ...c }))),
    onClaimLost: (error) => claimsLost.push(error),
  });
  return { watch, stages, saved, reports, claimsLost };
}

describe("RunProgress", () => {
  it("on each stats interval brings the links' batches in flight up, reports the counters and saves them", async () => {
    const { watch, stages, saved, reports } = progress();
    const sink = stages.records.get("sink");
    if (sink) sink.link = { inFlight: 3 } as ConsumerLink;
    await watch.report();
    expect(reports[0]?.find((c) => c.stageId === "sink")).toMatchObject({ inFlight: 3, peakInFlight: 3 });
    if (sink) sink.link = { inFlight: 1 } as ConsumerLink;
    await watch.report();
    expect(reports[1]?.find((c) => c.stageId === "sink")).toMatchObject({ inFlight: 1, peakInFlight: 3 });
    expect(saved.map((save) => save.runId)).toEqual(["run-1", "run-1"]);
    expect(saved[0]?.stages.map((stats) => stats.stageId)).toEqual(["src", "sink"]);
  });

  it("reports but saves nothing before the run has claimed its pipeline", async () => {
    const { watch, saved, reports } = progress({ runId: "" });
    await watch.report();
    expect(reports).toHaveLength(1);
    expect(saved).toEqual([]);
  });

  it("ends the run when another run took the pipeline over; any other failed save only loses a snapshot", async () => {
    const lost = new ClaimLostError("run-1", "t", "run-2", "run run-2 took the pipeline over");
    const fenced = progress({ save: () => Promise.reject(lost) });
    await fenced.watch.report();
    expect(fenced.claimsLost).toEqual([lost]);

    const away = progress({ save: () => Promise.reject(new Error("connection refused")) });
    await away.watch.report();
    expect(away.claimsLost).toEqual([]);
  });

  it("keeps restarts and health on the stage's counters, ignoring stages no longer in the run", () => {
    const { watch, stages } = progress();
    watch.restarted("sink", 2);
    watch.health("sink", "serving");
    watch.restarted("gone", 1);
    watch.health("gone", "not_serving");
    expect(stages.records.get("sink")?.counters).toMatchObject({ restarts: 2, health: "serving" });
  });

  it("saves the run's totals at the end, a store that is away losing them without failing", async () => {
    const ok = progress();
    await ok.watch.saveTotals();
    expect(ok.saved).toHaveLength(1);
    const away = progress({ save: () => Promise.reject(new Error("connection refused")) });
    await expect(away.watch.saveTotals()).resolves.toBeUndefined();
  });
});
