import type { Scenario } from "../scenario";
import { summarizeOutcomes } from "./figure-summaries";

const baseline: Scenario = { name: "baseline", description: "b" };
const contender: Scenario = { name: "contender", description: "c", baselines: ["baseline"] };

describe("summarizeOutcomes", () => {
  it("reports the median with min-max and the ratio to the same figure of the baseline in the same unit", () => {
    const lines = summarizeOutcomes([
      {
        scenario: baseline,
        status: "measured",
        runs: [
          [{ figure: "batch=100", unit: "events/s", value: 100 }],
          [{ figure: "batch=100", unit: "events/s", value: 300 }],
          [{ figure: "batch=100", unit: "events/s", value: 200 }],
        ],
      },
      {
        scenario: contender,
        status: "measured",
        runs: [100, 500, 400].map((value) => [
          {
            figure: "batch=100",
            unit: "events/s",
            value,
            ratioVs: { scenario: "baseline", figure: "batch=100" },
          },
        ]),
      },
    ]);
    expect(lines).toEqual([
      expect.objectContaining({
        scenario: "baseline",
        median: 200,
        min: 100,
        max: 300,
        runs: 3,
        ratio: null,
      }),
      expect.objectContaining({
        scenario: "contender",
        median: 400,
        min: 100,
        max: 500,
        ratio_vs: "baseline/batch=100",
        ratio: 2,
      }),
    ]);
  });

  it("keeps figures of the same name in different units apart", () => {
    const lines = summarizeOutcomes([
      {
        scenario: baseline,
        status: "measured",
        runs: [
          [
            { figure: "encode", unit: "events/s", value: 1000 },
            { figure: "encode", unit: "MB/s", value: 2 },
          ],
        ],
      },
    ]);
    expect(lines.map((line) => [line.unit, line.median])).toEqual([
      ["events/s", 1000],
      ["MB/s", 2],
    ]);
  });

  it("leaves the ratio empty when the baseline did not produce the figure", () => {
    const lines = summarizeOutcomes([
      { scenario: baseline, status: "failed", reason: "boom" },
      {
        scenario: contender,
        status: "measured",
        runs: [[{ figure: "x", unit: "s", value: 1, ratioVs: { scenario: "baseline", figure: "x" } }]],
      },
    ]);
    expect(lines[0]).toEqual(expect.objectContaining({ status: "failed", reason: "boom", figure: null }));
    expect(lines[1]).toEqual(expect.objectContaining({ ratio_vs: "baseline/x", ratio: null }));
  });
});
