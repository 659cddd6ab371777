import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { cleanBuildEnvironment } from "../build/clean-build-environment";
import { findOwnedContract } from "../build/owned-contract";
import { type CommandResult, runTimedCommand } from "../build/timed-command";
import {
  listRunSummaries,
  readNewRunSummary,
  rebuiltPackages,
  type TurboTaskOutcome,
} from "../build/turbo-run-summary";
import type { Measurement, Scenario, ScenarioContext } from "../scenario";

// Build speed as a newcomer and a contributor see it: `pnpm build` in a fresh clone (nothing cached),
// the same command again with no change (turbo should restore everything), and again after a
// one-line edit to one contract (only the packages that depend on it should rebuild). Every run
// starts from its own clone in a temporary folder, removed afterwards.

const BUILD_SCENARIO = "build";
const INSTALL_TIMEOUT_MS = 10 * 60_000;
const BUILD_TIMEOUT_MS = 20 * 60_000;

function repositoryRoot(): string {
  return execFileSync("git", ["rev-parse", "--show-toplevel"], { cwd: __dirname, encoding: "utf8" }).trim();
}

interface TimedBuild {
  result: CommandResult;
  tasks: TurboTaskOutcome[];
}

async function timedBuild(clone: string, env: NodeJS.ProcessEnv): Promise<TimedBuild> {
  const before = listRunSummaries(clone);
  // `pnpm build` exactly as documented; --summarize is passed through to turbo so we learn which
  // tasks ran and which came from the cache.
  const result = await runTimedCommand("pnpm", ["build", "--summarize"], {
    cwd: clone,
    env,
    timeoutMs: BUILD_TIMEOUT_MS,
  });
  return { result, tasks: readNewRunSummary(clone, before) };
}

/** Offline from the local pnpm store when it has everything; otherwise allow fetching what is missing. */
async function install(
  clone: string,
  env: NodeJS.ProcessEnv,
): Promise<{ result: CommandResult; mode: string }> {
  const options = { cwd: clone, env, timeoutMs: INSTALL_TIMEOUT_MS };
  try {
    return {
      result: await runTimedCommand("pnpm", ["install", "--offline", "--frozen-lockfile"], options),
      mode: "--offline",
    };
  } catch {
    return {
      result: await runTimedCommand("pnpm", ["install", "--prefer-offline", "--frozen-lockfile"], options),
      mode: "--prefer-offline (the store lacked a package)",
    };
  }
}

function describeTasks(tasks: readonly TurboTaskOutcome[]): string {
  const ran = tasks.filter((task) => !task.cacheHit).length;
  return `${ran} of ${tasks.length} turbo tasks ran, ${tasks.length - ran} restored from cache`;
}

async function measureBuild(context: ScenarioContext): Promise<Measurement[]> {
  const repo = context.repo ?? repositoryRoot();
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "flow-bench-build-"));
  const clone = path.join(workDir, "flow");
  const env = cleanBuildEnvironment();
  try {
    await runTimedCommand("git", ["clone", "--quiet", repo, clone], {
      cwd: workDir,
      env,
      timeoutMs: INSTALL_TIMEOUT_MS,
    });
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], {
      cwd: clone,
      encoding: "utf8",
    }).trim();
    context.log(`cloned ${repo} at ${head} into ${clone}`);

    const installed = await install(clone, env);
    context.log(`pnpm install ${installed.mode}: ${installed.result.elapsedSeconds.toFixed(1)} s`);
    const cold = await timedBuild(clone, env);
    context.log(`cold build: ${cold.result.elapsedSeconds.toFixed(1)} s (${describeTasks(cold.tasks)})`);
    const unchanged = await timedBuild(clone, env);
    context.log(
      `no-change rebuild: ${unchanged.result.elapsedSeconds.toFixed(2)} s (${describeTasks(unchanged.tasks)})`,
    );
    // Once more: if the first rebuild was not fully cached, this tells a cache key that includes a
    // build's own products (settles on the second try) from one that never settles.
    const unchangedAgain = await timedBuild(clone, env);
    context.log(
      `second no-change rebuild: ${unchangedAgain.result.elapsedSeconds.toFixed(2)} s (${describeTasks(unchangedAgain.tasks)})`,
    );

    const coldFigure = { scenario: BUILD_SCENARIO, figure: "cold build" };
    const measurements: Measurement[] = [
      {
        figure: "pnpm install",
        unit: "s",
        value: installed.result.elapsedSeconds,
        detail: `pnpm install ${installed.mode} --frozen-lockfile in a fresh clone of ${head}`,
      },
      {
        figure: "cold build",
        unit: "s",
        value: cold.result.elapsedSeconds,
        detail: describeTasks(cold.tasks),
      },
      {
        figure: "no-change rebuild",
        unit: "s",
        value: unchanged.result.elapsedSeconds,
        ratioVs: coldFigure,
        detail: `${describeTasks(unchanged.tasks)}; rebuilt: ${rebuiltPackages(unchanged.tasks).join(", ") || "none"}`,
      },
      {
        figure: "second no-change rebuild",
        unit: "s",
        value: unchangedAgain.result.elapsedSeconds,
        ratioVs: coldFigure,
        detail: `${describeTasks(unchangedAgain.tasks)}; rebuilt: ${rebuiltPackages(unchangedAgain.tasks).join(", ") || "none"}`,
      },
    ];

    const contract = findOwnedContract(clone);
    if (contract === undefined) {
      context.log("no package owns a contract in this clone: the one-contract rebuild is not measured");
      return measurements;
    }
    // A comment is the smallest change that alters the contract's bytes: every hash that includes
    // the file changes, nothing that compiles differs, and the vendor check still passes.
    fs.appendFileSync(
      path.join(clone, contract.file),
      `\n// Edited by the build benchmark (run ${context.runIndex + 1}).\n`,
    );
    const changed = await timedBuild(clone, env);
    const rebuilt = rebuiltPackages(changed.tasks);
    context.log(
      `one-contract rebuild: ${changed.result.elapsedSeconds.toFixed(1)} s, rebuilt ${rebuilt.join(", ")}`,
    );
    const vendoredBy = contract.vendoredBy.length > 0 ? contract.vendoredBy.join(", ") : "no package";
    measurements.push(
      {
        figure: "one-contract rebuild",
        unit: "s",
        value: changed.result.elapsedSeconds,
        ratioVs: coldFigure,
        detail: `edited a comment in ${contract.file} (owned by ${contract.ownerPackage}; vendored as a pinned release by ${vendoredBy}); ${describeTasks(changed.tasks)}`,
      },
      {
        figure: "packages rebuilt after one-contract change",
        unit: "packages",
        value: rebuilt.length,
        detail: `rebuilt: ${rebuilt.join(", ") || "none"}; workspace packages with a build task: ${new Set(changed.tasks.map((task) => task.packageName)).size}`,
      },
    );
    return measurements;
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

export const buildScenario: Scenario = {
  name: BUILD_SCENARIO,
  description:
    "cold `pnpm build` in a fresh clone, a no-change rebuild (target <= 2 s), a rebuild after one contract changes (which packages rebuilt)",
  skipInQuick: true,
  measure: measureBuild,
};
