import { parseBenchOptions } from "./bench-options";
import { runBench } from "./harness";
import { FIGURE_LINE_KEYS, type FigureLine } from "./report/figure-line";
import { defaultScenarioRegistry } from "./scenarios/default-registry";

// A smoke test of the harness as CI runs it: quick mode, the codec scenario, the real registry.
// It checks the shape of what is printed, never how fast anything was.

async function runQuietly(argv: string[]): Promise<{ exitCode: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const result = await runBench(parseBenchOptions(argv), defaultScenarioRegistry(), {
    out: (line) => out.push(line),
    err: (line) => err.push(line),
  });
  return { exitCode: result.exitCode, out, err };
}

describe("pnpm bench --quick --only codec", () => {
  it("prints machine info once, then one JSON line per figure with median, min-max and runs", async () => {
    const { exitCode, out } = await runQuietly(["--quick", "--only", "codec", "--json-only"]);
    expect(exitCode).toBe(0);
    const records = out.map((line) => JSON.parse(line) as Record<string, unknown>);
    const machine = records.filter((record) => "machine" in record);
    expect(machine).toHaveLength(1);
    expect(machine[0]?.machine).toEqual(
      expect.objectContaining({
        cpu_model: expect.any(String),
        cores: expect.any(Number),
        node: process.version,
      }),
    );

    const figures = records.filter((record) => !("machine" in record)) as unknown as FigureLine[];
    expect(figures.length).toBeGreaterThan(0);
    for (const figure of figures) {
      for (const key of FIGURE_LINE_KEYS) expect(figure).toHaveProperty(key);
      expect(figure.scenario).toBe("codec");
      expect(figure.status).toBe("measured");
      expect(figure.runs).toBe(3);
      expect(["events/s", "MB/s"]).toContain(figure.unit);
      const { min, median, max } = figure as { min: number; median: number; max: number };
      expect(min).toBeGreaterThan(0);
      expect(min).toBeLessThanOrEqual(median);
      expect(median).toBeLessThanOrEqual(max);
    }
    const names = figures.map((figure) => `${figure.figure} [${figure.unit}]`);
    expect(names).toEqual(
      expect.arrayContaining([
        "encode batch=100 [events/s]",
        "encode batch=100 [MB/s]",
        "decode batch=100 [events/s]",
        "decode batch=100 [MB/s]",
        "encode batch=500 [events/s]",
        "decode batch=500 [MB/s]",
      ]),
    );
  });

  it("prints the table before the JSON lines unless --json-only, honouring --runs", async () => {
    const { exitCode, out } = await runQuietly(["--quick", "--only=codec", "--runs", "1"]);
    expect(exitCode).toBe(0);
    expect(out[0]).toMatch(/^machine: .+ cores, .+ GB, node v\d+/);
    const header = out.findIndex((line) =>
      /^scenario\s+figure\s+unit\s+median\s+min \.\. max\s+runs\s+ratio/.test(line),
    );
    expect(header).toBeGreaterThan(0);
    const jsonLines = out.filter((line) => line.startsWith("{"));
    expect(jsonLines.length).toBeGreaterThan(1);
    for (const line of jsonLines.slice(1)) expect((JSON.parse(line) as FigureLine).runs).toBe(1);
  });

  it("measures every scenario in quick mode (the CI smoke test): Flow pipelines under `flow run` included", async () => {
    const { exitCode, out, err } = await runQuietly(["--quick", "--json-only", "--runs", "1"]);
    const failures = out.filter((line) => line.includes('"status":"failed"'));
    expect({ exitCode, failures, log: exitCode === 0 ? [] : err.slice(-10) }).toEqual({
      exitCode: 0,
      failures: [],
      log: [],
    });
    const lines = out.slice(1).map((line) => JSON.parse(line) as FigureLine);
    const scenarios = new Set(lines.map((line) => line.scenario));
    for (const name of [
      "codec",
      "pipeline-baseline",
      "flow-throughput",
      "flow-direct-path",
      "flow-stream-bundles",
      "flow-ack-cost",
      "flow-latency",
      "flow-startup",
    ]) {
      expect(scenarios).toContain(name);
    }
    for (const line of lines) {
      if (line.status === "skipped") continue;
      expect(line.status).toBe("measured");
      expect(Number.isFinite(line.median)).toBe(true);
    }
    // Slow or machine-bound scenarios are skipped in quick mode, and say so.
    expect(lines.filter((line) => line.status === "skipped").map((line) => line.scenario)).toEqual(
      expect.arrayContaining(["build", "flow-stalled-consumer"]),
    );
  }, 900_000); // a hang guard, not a speed check: beside the e2e suite (CI) this took 200 s, alone 124 s

  it("flow-direct-path: direct and through Core per batch size, events/s and CPU per process, direct with its ratio", async () => {
    const { exitCode, out, err } = await runQuietly([
      "--quick",
      "--only",
      "flow-direct-path",
      "--batch-sizes",
      "100,500",
      "--runs",
      "2",
      "--json-only",
    ]);
    expect({ exitCode, log: exitCode === 0 ? [] : err.slice(-10) }).toEqual({ exitCode: 0, log: [] });
    const lines = out.slice(1).map((line) => JSON.parse(line) as FigureLine);
    expect(new Set(lines.map((line) => line.scenario))).toEqual(new Set(["flow-direct-path"]));
    const named = new Map(lines.map((line) => [`${line.figure} [${line.unit}]`, line]));
    for (const batch of ["batch=100", "batch=500"]) {
      for (const unit of ["events/s", "CPU s/1M events"]) {
        const direct = named.get(`direct ${batch} [${unit}]`);
        const throughCore = named.get(`through Core ${batch} [${unit}]`);
        expect(direct).toEqual(
          expect.objectContaining({
            status: "measured",
            runs: 2,
            ratio_vs: `flow-direct-path/through Core ${batch}`,
            ratio: expect.any(Number),
          }),
        );
        expect(throughCore).toEqual(expect.objectContaining({ status: "measured", runs: 2, ratio_vs: null }));
      }
      for (const path of ["direct", "through Core"]) {
        for (const process of ["core", "source", "processor", "consumer"]) {
          expect(named.get(`${path} ${batch}: ${process} [CPU s/1M events]`)).toEqual(
            expect.objectContaining({ status: "measured", median: expect.any(Number) }),
          );
        }
      }
      expect(named.get(`through Core ${batch} [events/s]`)?.detail).toMatch(/FLOW_DIRECT_PATH=off/);
    }
  }, 400_000);

  it("rejects an unknown scenario name instead of running nothing", async () => {
    const { exitCode, out, err } = await runQuietly(["--only", "no-such-scenario"]);
    expect(exitCode).toBe(2);
    expect(out).toEqual([]);
    expect(err.join("\n")).toMatch(/unknown scenario "no-such-scenario"; known: codec, /);
  });
});
