import { parsePipeline, type RunResult, type StageCounters } from "@flow/core";
import { EXIT } from "./exit-codes";
import { judgeRun } from "./run-outcome";

const pipeline = (deadLetters: string) =>
  parsePipeline(
    `apiVersion: flow/v1\nkind: Pipeline\nmetadata: { name: judged }\n${deadLetters}sources: [{ id: s, use: a }]\nconsumers: [{ id: c, use: b, inputs: [s] }]\n`,
    { file: "judged.yaml", baseDir: "/tmp", env: {} },
  );

function result(status: RunResult["status"], read: number, dead: number): RunResult {
  const stage = (stageId: string, family: StageCounters["family"], eventsOut: number): StageCounters => ({
    stageId,
    family,
    eventsIn: family === "source" ? 0 : read,
    eventsOut,
    batchesIn: 1,
    deadLetters: family === "consumer" ? dead : 0,
    restarts: 0,
    errors: 0,
    inFlight: 0,
    peakInFlight: 1,
    health: "serving",
  });
  return {
    runId: "r1",
    status,
    stages: [stage("s", "source", read), stage("c", "consumer", read - dead)],
    deadLetters: dead,
    dataPlaneRestarts: 0,
    durationMs: 10,
  };
}

describe("judgeRun", () => {
  it("does not call a run that dead-lettered everything (or anything, by default) a success", () => {
    expect(judgeRun(result("succeeded", 2000, 2000), pipeline(""))).toEqual({
      exitCode: EXIT.deadLetters,
      eventsRead: 2000,
      deadLettersAllowed: 0,
      overAllowance: true,
    });
    expect(judgeRun(result("succeeded", 20_000, 1), pipeline("")).exitCode).toBe(EXIT.deadLetters);
    expect(judgeRun(result("succeeded", 20_000, 0), pipeline("")).exitCode).toBe(EXIT.ok);
  });

  it("lets a run succeed within deadLetters.allow, as a count or a percentage of the events read", () => {
    expect(
      judgeRun(result("succeeded", 20_000, 100), pipeline("deadLetters: { allow: 100 }\n")).exitCode,
    ).toBe(EXIT.ok);
    expect(
      judgeRun(result("succeeded", 20_000, 101), pipeline("deadLetters: { allow: 100 }\n")).exitCode,
    ).toBe(EXIT.deadLetters);
    const percent = pipeline("deadLetters: { allow: 1% }\n");
    expect(judgeRun(result("succeeded", 20_000, 200), percent)).toMatchObject({
      exitCode: EXIT.ok,
      deadLettersAllowed: 200,
    });
    expect(judgeRun(result("succeeded", 20_000, 14_600), percent).exitCode).toBe(EXIT.deadLetters);
  });

  it("keeps the codes of a stopped and of a failed run", () => {
    expect(judgeRun(result("stopped", 500, 50), pipeline("")).exitCode).toBe(EXIT.interrupted);
    expect(judgeRun(result("failed", 500, 50), pipeline("")).exitCode).toBe(EXIT.findings);
  });
});
