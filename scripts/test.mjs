#!/usr/bin/env node
// The whole test suite: turbo runs every package's `test` task (after vendor --check, generate and
// build), each jest run writes the results file its `--outputFile=` names (.jest-results.json; a
// package whose test script runs jest more than once, like packages/e2e with the direct data path
// on and off, names one file a run: .jest-results.<run>.json), and this script adds them all up,
// a row a run, and lists the failed tests with the run they failed in. The last line is
// the summary `Tests: N passed, N failed, N skipped`, so a run that ran nothing cannot pass for one
// that passed. Under CI=true a skipped test counts as a failure (tests needing a server must run).
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { stripVTControlCharacters } from "node:util";

const root = join(import.meta.dirname, "..");
const ci = process.env.CI === "true";

function workspacePackages() {
  const listed = spawnSync("pnpm", ["-r", "ls", "--depth", "-1", "--json"], { cwd: root, encoding: "utf8" });
  if (listed.status !== 0) throw new Error(`pnpm ls failed: ${listed.stderr}`);
  return JSON.parse(listed.stdout)
    .filter((pkg) => pkg.path !== root)
    .map((pkg) => ({
      name: pkg.name,
      dir: pkg.path,
      manifest: JSON.parse(readFileSync(join(pkg.path, "package.json"), "utf8")),
    }))
    .filter((pkg) => pkg.manifest.scripts?.test);
}

/** The jest results files a package's test script writes, one per `--outputFile=`, each with its run's label. */
function resultFiles(pkg) {
  const named = [...pkg.manifest.scripts.test.matchAll(/--outputFile[= ]["']?([^\s"';]+)/g)].map(
    (match) => match[1],
  );
  return (named.length > 0 ? named : [".jest-results.json"]).map((name) => {
    const run = /^\.jest-results\.(.+)\.json$/.exec(name)?.[1];
    return { file: join(pkg.dir, name), label: run ? `${pkg.name} [${run}]` : pkg.name };
  });
}

/** The first line that says something of a jest failure message (no colours, no "● Test suite failed to run"). */
function firstLine(message) {
  const lines = stripVTControlCharacters(message ?? "").split("\n");
  return (
    lines.map((line) => line.trim()).find((line) => line && !line.startsWith("●")) ??
    "the suite failed to run"
  );
}

/**
 * What a failed test's message says, without its stack: up to 16 lines, indented under the test's
 * name, so a CI log that shows only this summary still tells why (a diff, a timeout, a log tail).
 */
function failureExcerpt(message) {
  const lines = stripVTControlCharacters(message ?? "")
    .split("\n")
    .map((line) => line.trimEnd())
    .filter((line) => line.trim() && !line.trim().startsWith("at ") && !line.trim().startsWith("●"));
  const shown = lines.slice(0, 16).map((line) => `      ${line}`);
  if (lines.length > shown.length)
    shown.push(`      … ${lines.length - shown.length} more line(s) in the log above`);
  return shown.join("\n");
}

// Results of an earlier run are gone before anything runs (and before biome could read them).
const packages = workspacePackages();
const runs = packages.flatMap((pkg) => resultFiles(pkg).map((run) => ({ ...run, dir: pkg.dir })));
for (const run of runs) rmSync(run.file, { force: true });

// Format and lint first (biome): a finding fails the run like a failing test.
const lint = spawnSync(join(root, "node_modules", ".bin", "biome"), ["check", "."], {
  cwd: root,
  stdio: "inherit",
});
const lintFailed = lint.status !== 0;

const turbo = spawnSync(
  join(root, "node_modules", ".bin", "turbo"),
  ["run", "test", "--continue", "--concurrency=2", "--output-logs=new-only", ...process.argv.slice(2)],
  {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, PATH: `${join(root, "node_modules", ".bin")}:${process.env.PATH}` },
  },
);

let passed = 0;
let failed = 0;
let skipped = 0;
const rows = [];
const failures = [];
for (const run of runs) {
  if (!existsSync(run.file)) {
    failed += 1;
    // turbo replays a cached test task with only the files its `outputs` list.
    const cached = run.file.endsWith(`${sep}.jest-results.json`)
      ? ""
      : `, or turbo replayed a cached run without ${relative(root, run.file)} (turbo.json's test outputs must list it)`;
    rows.push(`  ${run.label.padEnd(32)} no results (its tests did not run: see the log above${cached})`);
    continue;
  }
  const result = JSON.parse(readFileSync(run.file, "utf8"));
  const brokenSuites = result.numRuntimeErrorTestSuites ?? 0;
  passed += result.numPassedTests;
  failed += result.numFailedTests + brokenSuites;
  skipped += result.numPendingTests + result.numTodoTests;
  rows.push(
    `  ${run.label.padEnd(32)} ${String(result.numPassedTests).padStart(5)} passed ${String(result.numFailedTests + brokenSuites).padStart(3)} failed ${String(result.numPendingTests).padStart(3)} skipped  (${relative(root, run.dir)})`,
  );
  for (const suite of result.testResults ?? []) {
    const where = relative(root, suite.name);
    const failedTests = (suite.assertionResults ?? []).filter((test) => test.status === "failed");
    for (const test of failedTests)
      failures.push(
        `  ${run.label}  ${where} › ${test.fullName}\n${failureExcerpt(test.failureMessages?.[0])}`,
      );
    if (suite.status === "failed" && failedTests.length === 0)
      failures.push(`  ${run.label}  ${where}: ${firstLine(suite.message)}`);
  }
}

console.log("\nTest results by package:");
for (const row of rows) console.log(row);
if (failures.length > 0) {
  console.log("Failed tests:");
  for (const failure of failures) console.log(failure);
}
if (ci && skipped > 0) console.log(`CI=true: ${skipped} skipped test(s) count as failures`);
if (turbo.status !== 0) console.log(`turbo exited with ${turbo.status}: a build or test task failed`);
if (lintFailed) {
  failed += 1;
  console.log("biome check found problems (see above): `pnpm format` fixes formatting");
}
console.log(`Tests: ${passed} passed, ${failed + (ci ? skipped : 0)} failed, ${ci ? 0 : skipped} skipped`);
process.exitCode = turbo.status !== 0 || failed > 0 || (ci && skipped > 0) || passed === 0 ? 1 : 0;
