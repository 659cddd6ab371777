import * as fs from "node:fs";
import * as path from "node:path";

// Which tasks a `turbo run --summarize` executed and which it restored from cache, read from the
// summary file turbo writes under .turbo/runs/. That is turbo's own account of what rebuilt, rather
// than a guess from timings or log text.

export interface TurboTaskOutcome {
  taskId: string;
  packageName: string;
  task: string;
  cacheHit: boolean;
}

interface SummaryFile {
  tasks?: Array<{ taskId?: string; package?: string; task?: string; cache?: { status?: string } }>;
}

/** Summary files present before a run, so the run's own file can be told apart afterwards. */
export function listRunSummaries(repoDir: string): Set<string> {
  const dir = path.join(repoDir, ".turbo", "runs");
  return new Set(fs.existsSync(dir) ? fs.readdirSync(dir) : []);
}

export function readNewRunSummary(repoDir: string, before: Set<string>): TurboTaskOutcome[] {
  const dir = path.join(repoDir, ".turbo", "runs");
  const fresh = fs
    .readdirSync(dir)
    .filter((name) => name.endsWith(".json") && !before.has(name))
    .map((name) => path.join(dir, name));
  if (fresh.length !== 1)
    throw new Error(`expected one new turbo run summary in ${dir}, found ${fresh.length}`);
  const summary = JSON.parse(fs.readFileSync(fresh[0] as string, "utf8")) as SummaryFile;
  return (summary.tasks ?? []).map((task) => {
    const taskId = task.taskId ?? `${task.package}#${task.task}`;
    const [packageName = "?", taskName = "?"] = taskId.split("#");
    return {
      taskId,
      packageName: task.package ?? packageName,
      task: task.task ?? taskName,
      cacheHit: task.cache?.status === "HIT",
    };
  });
}

/** Packages with at least one task that really ran (cache miss), sorted. */
export function rebuiltPackages(outcomes: readonly TurboTaskOutcome[]): string[] {
  return [
    ...new Set(outcomes.filter((outcome) => !outcome.cacheHit).map((outcome) => outcome.packageName)),
  ].sort();
}
