import { summarizeRuns } from "./run-statistics";

describe("summarizeRuns", () => {
  it("takes the middle value of an odd number of runs, whatever their order", () => {
    expect(summarizeRuns([9, 1, 5])).toEqual({ median: 5, min: 1, max: 9, runs: 3 });
  });

  it("averages the two middle values of an even number of runs", () => {
    expect(summarizeRuns([4, 1, 3, 10])).toEqual({ median: 3.5, min: 1, max: 10, runs: 4 });
  });

  it("refuses to summarize nothing", () => {
    expect(() => summarizeRuns([])).toThrow();
  });
});
