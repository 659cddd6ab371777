import { BENCH_USAGE, type BenchOptions } from "./bench-options";
import { describeMachine } from "./machine-info";
import type { FigureLine } from "./report/figure-line";
import { type ScenarioOutcome, summarizeOutcomes } from "./report/figure-summaries";
import { formatMachine, formatResultsTable } from "./report/results-table";
import type { Measurement, Scenario, ScenarioContext } from "./scenario";
import type { ScenarioRegistry } from "./scenario-registry";

export interface BenchOutput {
  /** The report: table and JSON lines. */
  out(line: string): void;
  /** Progress and diagnostics, kept off stdout so `--json-only` output parses line by line. */
  err(line: string): void;
}

export interface BenchResult {
  exitCode: number;
  lines: FigureLine[];
}

/**
 * Runs the selected scenarios `runs` times, interleaved (run 1 of every scenario, then run 2...), so
 * a baseline and the thing compared with it see the same machine conditions, then prints one table
 * and one JSON line per figure. A failing scenario is reported and makes the exit code 1; the
 * others still run.
 */
export async function runBench(
  options: BenchOptions,
  registry: ScenarioRegistry,
  output: BenchOutput,
): Promise<BenchResult> {
  if (options.help) {
    output.out(BENCH_USAGE);
    return { exitCode: 0, lines: [] };
  }
  if (options.list) {
    for (const scenario of registry.all()) {
      const tags = [
        scenario.pending ? `pending: ${scenario.pending}` : "",
        scenario.skipInQuick ? "not in --quick" : "",
      ]
        .filter((tag) => tag !== "")
        .join("; ");
      output.out(`${scenario.name.padEnd(24)} ${scenario.description}${tags ? ` (${tags})` : ""}`);
    }
    return { exitCode: 0, lines: [] };
  }

  let selected: Scenario[];
  try {
    selected = options.only.length > 0 ? registry.select(options.only) : registry.all();
  } catch (error) {
    // A typo in --only is a usage error, not a failed benchmark: say so and measure nothing.
    output.err(`bench: ${error instanceof Error ? error.message : String(error)}`);
    return { exitCode: 2, lines: [] };
  }
  const machine = describeMachine();
  if (!options.jsonOnly) {
    output.out(formatMachine(machine));
    if (options.quick) output.out("--quick: small sizes; the figures test the harness, they are not results");
  }
  output.out(JSON.stringify({ machine }));

  const outcomes: ScenarioOutcome[] = selected.map((scenario) => initialOutcome(scenario, options));
  for (let runIndex = 0; runIndex < options.runs; runIndex++) {
    for (const [index, outcome] of outcomes.entries()) {
      if (outcome.status !== "measured") continue;
      const scenario = outcome.scenario;
      const context: ScenarioContext = {
        quick: options.quick,
        runIndex,
        runs: options.runs,
        events: options.events,
        batchSizes: options.batchSizes,
        repo: options.repo,
        log: (message) => output.err(`  [${scenario.name}] ${message}`),
      };
      const started = process.hrtime.bigint();
      try {
        const measurements = await (scenario.measure as (context: ScenarioContext) => Promise<Measurement[]>)(
          context,
        );
        outcome.runs.push(measurements);
        output.err(`run ${runIndex + 1}/${options.runs} ${scenario.name}: ${formatSeconds(started)}`);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        output.err(
          `run ${runIndex + 1}/${options.runs} ${scenario.name} FAILED after ${formatSeconds(started)}: ${reason}`,
        );
        outcomes[index] = { scenario, status: "failed", reason };
      }
    }
  }

  const lines = summarizeOutcomes(outcomes);
  if (!options.jsonOnly) {
    output.out("");
    output.out(formatResultsTable(lines));
    output.out("");
  }
  for (const line of lines) output.out(JSON.stringify(line));
  const failed = outcomes.some((outcome) => outcome.status === "failed");
  return { exitCode: failed ? 1 : 0, lines };
}

function initialOutcome(scenario: Scenario, options: BenchOptions): ScenarioOutcome {
  if (scenario.pending !== undefined || scenario.measure === undefined) {
    return { scenario, status: "pending", reason: scenario.pending ?? "not implemented" };
  }
  if (options.quick && scenario.skipInQuick) {
    return { scenario, status: "skipped", reason: "not run in --quick" };
  }
  return { scenario, status: "measured", runs: [] };
}

function formatSeconds(started: bigint): string {
  return `${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(1)} s`;
}
