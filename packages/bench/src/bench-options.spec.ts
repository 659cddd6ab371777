import { DEFAULT_RUNS, parseBenchOptions } from "./bench-options";

describe("parseBenchOptions", () => {
  it("defaults to every scenario, three runs, table and JSON", () => {
    expect(parseBenchOptions([])).toEqual(
      expect.objectContaining({ quick: false, only: [], runs: DEFAULT_RUNS, jsonOnly: false }),
    );
    expect(DEFAULT_RUNS).toBeGreaterThanOrEqual(3);
  });

  it("accepts --only as a list or repeated, and --runs, --events, --json-only", () => {
    const options = parseBenchOptions([
      "--only",
      "codec,build",
      "--only=pipeline-baseline",
      "--runs",
      "5",
      "--events",
      "1_000",
      "--json-only",
    ]);
    expect(options.only).toEqual(["codec", "build", "pipeline-baseline"]);
    expect(options.runs).toBe(5);
    expect(options.events).toBe(1000);
    expect(options.jsonOnly).toBe(true);
  });

  it("takes the pipeline batch sizes as a list, and rejects a size that is not a positive integer", () => {
    expect(parseBenchOptions([]).batchSizes).toBeUndefined();
    expect(parseBenchOptions(["--batch-sizes", "100, 500"]).batchSizes).toEqual([100, 500]);
    expect(() => parseBenchOptions(["--batch-sizes", "100,0"])).toThrow(
      /--batch-sizes expects a positive integer, got "0"/,
    );
  });

  it("rejects a run count that is not a positive integer, and unknown flags", () => {
    expect(() => parseBenchOptions(["--runs", "0"])).toThrow(/--runs/);
    expect(() => parseBenchOptions(["--fast"])).toThrow();
  });
});
