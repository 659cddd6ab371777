#!/usr/bin/env node
import { parseBenchOptions } from "./bench-options";
import { runBench } from "./harness";
import { killChildrenOnExit } from "./live-children";
import { defaultScenarioRegistry } from "./scenarios/default-registry";

// `pnpm bench [--quick] [--only x] [--runs n] [--json-only]`: see BENCH_USAGE and docs/benchmarks.md.

async function main(): Promise<number> {
  killChildrenOnExit();
  let options: ReturnType<typeof parseBenchOptions>;
  try {
    options = parseBenchOptions(process.argv.slice(2));
  } catch (error) {
    console.error(`bench: ${error instanceof Error ? error.message : String(error)} (see --help)`);
    return 2;
  }
  const result = await runBench(options, defaultScenarioRegistry(), {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  });
  return result.exitCode;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  },
);
