import { existsSync, readdirSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import {
  type ExpectationFailure,
  isTestFileName,
  type PipelineTestFileResult,
  runPipelineTestFile,
  testFileOf,
} from "@flow/core";
import { UserError } from "@flow/errors";
import type { Command } from "commander";
import pino from "pino";
import { EXIT } from "./exit-codes";
import { logLevelOption } from "./log-level-option";

interface TestOptions {
  json?: boolean;
  logLevel: string;
}

/**
 * `flow test [paths...]`: runs pipeline unit tests (`<pipeline>.test.yaml`, see
 * docs/testing-pipelines.md) through the pipeline's real processors. Exit 0 when every test
 * passes, 1 when one fails, 2 when a file cannot be used.
 */
export function registerTestCommand(program: Command): void {
  program
    .command("test")
    .description(
      "Run pipeline unit tests (<pipeline>.test.yaml): feed events through the pipeline's processors and check each stage's output",
    )
    .argument(
      "[paths...]",
      "test files, pipeline files (their <name>.test.yaml is run) or folders (every *.test.yaml below); default: .",
    )
    .option("--json", "print the results as JSON on stdout (logs stay on stderr)")
    .addOption(logLevelOption().default("warn"))
    .action(async (paths: string[], options: TestOptions) => {
      process.exitCode = await runTests(paths.length > 0 ? paths : ["."], options);
    });
}

async function runTests(paths: string[], options: TestOptions): Promise<number> {
  const files = paths.flatMap(testFilesAt);
  if (files.length === 0) {
    throw new UserError(`no pipeline test files (*.test.yaml) in ${paths.join(", ")}`, {
      hint: "write one beside the pipeline: orders.yaml is tested by orders.test.yaml (see docs/testing-pipelines.md)",
    });
  }
  const logger = pino({ level: options.logLevel }, pino.destination(2));
  const results: PipelineTestFileResult[] = [];
  for (const file of files) {
    const result = await runPipelineTestFile(file, logger);
    results.push(result);
    if (!options.json) process.stdout.write(describeFile(result));
  }
  const tests = results.flatMap((result) => result.tests);
  const failed = tests.filter((test) => !test.passed).length;
  if (options.json) {
    const summary = { passed: failed === 0, tests: tests.length, failed, files: results };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } else {
    process.stdout.write(
      `${tests.length} test(s) in ${results.length} file(s): ${tests.length - failed} passed, ${failed} failed\n`,
    );
  }
  return failed === 0 ? EXIT.ok : EXIT.findings;
}

/** The test files a path names: itself, a pipeline's `<name>.test.yaml`, or every test file under a folder. */
function testFilesAt(path: string): string[] {
  if (!existsSync(path)) {
    throw new UserError(`${path}: no such file or folder`, {
      hint: "name test files (<pipeline>.test.yaml), pipeline files or folders",
    });
  }
  if (statSync(path).isDirectory()) return testFilesUnder(path);
  if (isTestFileName(path)) return [path];
  const tests = testFileOf(path);
  if (!existsSync(tests)) {
    throw new UserError(`${path} has no tests: ${relative(process.cwd(), tests) || tests} does not exist`, {
      hint: "write the pipeline's tests there (see docs/testing-pipelines.md)",
    });
  }
  return [relative(process.cwd(), tests) || tests];
}

function testFilesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => !entry.name.startsWith(".") && entry.name !== "node_modules")
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return testFilesUnder(path);
      return isTestFileName(entry.name) ? [path] : [];
    });
}

/** One file's results as a reader wants them: a line per test, and for a failure what and where, with a diff. */
export function describeFile(result: PipelineTestFileResult): string {
  const lines = [`${result.file} (pipeline ${relative(process.cwd(), resolve(result.pipeline))})`];
  for (const test of result.tests) {
    const seconds = (test.durationMs / 1000).toFixed(2);
    lines.push(`  ${test.passed ? "ok  " : "FAIL"} ${test.name} (${seconds}s)`);
    if (test.error) lines.push(`       error: ${test.error}`);
    for (const failure of test.failures) lines.push(...describeFailure(failure));
  }
  return `${lines.join("\n")}\n`;
}

function describeFailure(failure: ExpectationFailure): string[] {
  const head = `       stage ${failure.stage}, ${failure.check}: ${failure.message}`;
  if (!failure.diff) return [head];
  return [
    head,
    "         - expected  + actual",
    ...failure.diff.split("\n").map((line) => `         ${line}`),
  ];
}
