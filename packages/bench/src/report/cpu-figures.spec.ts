import type { Scenario } from "../scenario";
import { CPU_UNIT, cpuMeasurements, cpuSummaries } from "./cpu-figures";
import { summarizeOutcomes } from "./figure-summaries";
import { formatResultsTable } from "./results-table";

const chain: Scenario = { name: "chain", description: "c" };
const flow: Scenario = { name: "flow", description: "f", baselines: ["chain"] };

describe("CPU seconds per million events", () => {
  it("scales each process's CPU and their total to 1M events, the total compared with another pipeline's", () => {
    const figures = cpuMeasurements("batch=100", { core: 0.5, source: 0.25 }, 250_000, {
      scenario: "chain",
      figure: "batch=100",
    });
    expect(figures).toEqual([
      {
        figure: "batch=100",
        unit: CPU_UNIT,
        value: 3,
        ratioVs: { scenario: "chain", figure: "batch=100" },
      },
      { figure: "batch=100: core", unit: CPU_UNIT, value: 2 },
      { figure: "batch=100: source", unit: CPU_UNIT, value: 1 },
    ]);
  });

  it("reports medians over the runs, and the table shows each total with its processes instead of a row per process", () => {
    const lines = summarizeOutcomes([
      {
        scenario: chain,
        status: "measured",
        runs: [4, 6, 5].map((seconds) => cpuMeasurements("batch=100", { middle: seconds }, 1_000_000)),
      },
      {
        scenario: flow,
        status: "measured",
        runs: [
          [1, 3],
          [2, 9],
          [3, 6],
        ].map(([core, source]) =>
          cpuMeasurements("batch=100", { core: core as number, source: source as number }, 1_000_000, {
            scenario: "chain",
            figure: "batch=100",
          }),
        ),
      },
    ]);
    const total = lines.find((line) => line.scenario === "flow" && line.figure === "batch=100");
    // Totals 4, 11, 9: the median is 9, against the chain's median of 5.
    expect(total).toMatchObject({ median: 9, min: 4, max: 11, ratio: 1.8, ratio_vs: "chain/batch=100" });
    expect(cpuSummaries(lines).map(({ total, processes }) => [total.scenario, processes])).toEqual([
      ["chain", [{ process: "middle", median: 5 }]],
      [
        "flow",
        [
          { process: "core", median: 2 },
          { process: "source", median: 6 },
        ],
      ],
    ]);
    const table = formatResultsTable(lines);
    expect(table).toContain("flow / batch=100: 9 (core 2, source 6)");
    expect(table).not.toMatch(/^flow\s+batch=100: core/m);
  });
});
