#!/usr/bin/env node
// The whole test suite: turbo runs every package's `test` task (after vendor --check, generate and
// build), each jest run writes .jest-results.json, and this script adds them up. The last line is
// the summary `Tests: N passed, N failed, N skipped`, so a run that ran nothing cannot pass for one
// that passed. Under CI=true a skipped test counts as a failure (tests needing a server must run).
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join, relative } from "node:path";

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

// Format and lint first (biome): a finding fails the run like a failing test.
const lint = spawnSync(join(root, "node_modules", ".bin", "biome"), ["check", "."], {
  cwd: root,
  stdio: "inherit",
});
const lintFailed = lint.status !== 0;

const packages = workspacePackages();
for (const pkg of packages) rmSync(join(pkg.dir, ".jest-results.json"), { force: true });

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
for (const pkg of packages) {
  const file = join(pkg.dir, ".jest-results.json");
  if (!existsSync(file)) {
    failed += 1;
    rows.push(`  ${pkg.name.padEnd(28)} no results (its tests did not run: see the log above)`);
    continue;
  }
  const result = JSON.parse(readFileSync(file, "utf8"));
  const brokenSuites = result.numRuntimeErrorTestSuites ?? 0;
  passed += result.numPassedTests;
  failed += result.numFailedTests + brokenSuites;
  skipped += result.numPendingTests + result.numTodoTests;
  rows.push(
    `  ${pkg.name.padEnd(28)} ${String(result.numPassedTests).padStart(5)} passed ${String(result.numFailedTests + brokenSuites).padStart(3)} failed ${String(result.numPendingTests).padStart(3)} skipped  (${relative(root, pkg.dir)})`,
  );
}

console.log("\nTest results by package:");
for (const row of rows) console.log(row);
if (ci && skipped > 0) console.log(`CI=true: ${skipped} skipped test(s) count as failures`);
if (turbo.status !== 0) console.log(`turbo exited with ${turbo.status}: a build or test task failed`);
if (lintFailed) {
  failed += 1;
  console.log("biome check found problems (see above): `pnpm format` fixes formatting");
}
console.log(`Tests: ${passed} passed, ${failed + (ci ? skipped : 0)} failed, ${ci ? 0 : skipped} skipped`);
process.exitCode = turbo.status !== 0 || failed > 0 || (ci && skipped > 0) || passed === 0 ? 1 : 0;
