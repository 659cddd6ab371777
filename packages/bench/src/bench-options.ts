import { parseArgs } from "node:util";

export interface BenchOptions {
  quick: boolean;
  /** Scenario names; empty means every registered scenario. */
  only: string[];
  runs: number;
  jsonOnly: boolean;
  events?: number;
  /** Batch sizes of the pipeline scenarios (--batch-sizes); default 1, 10, 100, 500. */
  batchSizes?: number[];
  repo?: string;
  list: boolean;
  help: boolean;
}

export const DEFAULT_RUNS = 3;

export const BENCH_USAGE = `Usage: pnpm bench [options]

  --quick            small sizes, for the CI smoke test (no timing is asserted anywhere)
  --only <names>     run only these scenarios (comma-separated or repeated) and their baselines
  --runs <n>         runs per scenario (default ${DEFAULT_RUNS}); each figure is the median with min-max
  --json-only        print only JSON lines (machine info, then one line per figure)
  --events <n>       events per pipeline run (default 1,000,000; --quick 5,000)
  --batch-sizes <l>  batch sizes of the pipeline scenarios, e.g. 100,500 (default 1,10,100,500)
  --repo <path>      repository the build scenario clones (default: this checkout)
  --list             list the scenarios and exit
  --help             show this help`;

export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: "boolean", default: false },
      only: { type: "string", multiple: true },
      runs: { type: "string" },
      "json-only": { type: "boolean", default: false },
      events: { type: "string" },
      "batch-sizes": { type: "string" },
      repo: { type: "string" },
      list: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    allowPositionals: false,
    strict: true,
  });
  return {
    quick: values.quick === true,
    only: (values.only ?? []).flatMap((entry) =>
      entry
        .split(",")
        .map((name) => name.trim())
        .filter((name) => name !== ""),
    ),
    runs: values.runs === undefined ? DEFAULT_RUNS : positiveInteger("--runs", values.runs),
    jsonOnly: values["json-only"] === true,
    events: values.events === undefined ? undefined : positiveInteger("--events", values.events),
    batchSizes:
      values["batch-sizes"] === undefined
        ? undefined
        : values["batch-sizes"].split(",").map((size) => positiveInteger("--batch-sizes", size.trim())),
    repo: values.repo,
    list: values.list === true,
    help: values.help === true,
  };
}

function positiveInteger(flag: string, text: string): number {
  const value = Number(text.replace(/_/g, ""));
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new Error(`${flag} expects a positive integer, got "${text}"`);
  }
  return value;
}
