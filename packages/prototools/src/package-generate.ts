import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "@flow/errors";

export interface GenerateResult {
  dir: string;
  /** The command run, or undefined when the folder has no `generate` script. */
  command?: string;
}

/** The package manager a repository uses, from its root package.json or lock file. */
export function packageManagerOf(repoRoot: string): "pnpm" | "yarn" | "npm" {
  try {
    const manifest = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as {
      packageManager?: string;
    };
    const declared = manifest.packageManager?.split("@")[0];
    if (declared === "pnpm" || declared === "yarn" || declared === "npm") return declared;
  } catch {
    // no root package.json: fall back to the lock files
  }
  if (existsSync(join(repoRoot, "pnpm-lock.yaml"))) return "pnpm";
  if (existsSync(join(repoRoot, "yarn.lock"))) return "yarn";
  return "npm";
}

/**
 * The package manager to run: the repository's own copy when it has one in node_modules/.bin (a
 * pinned dev dependency, as this monorepo's pnpm is: the README's `npx -y pnpm@… install` puts no
 * pnpm on PATH), else whatever PATH has.
 */
export function packageManagerProgram(repoRoot: string, manager: string): string {
  const local = join(repoRoot, "node_modules", ".bin", manager);
  return existsSync(local) ? local : manager;
}

/**
 * Regenerates a package's code from its freshly vendored protos by running its own `generate`
 * script (the same step the build runs), so pins and generated code never disagree. A folder
 * without a package.json or without that script (a family folder) needs nothing.
 */
export function regenerateCode(repoRoot: string, dir: string): GenerateResult {
  const manifestFile = join(repoRoot, dir, "package.json");
  if (!existsSync(manifestFile)) return { dir };
  let scripts: Record<string, unknown> = {};
  try {
    scripts =
      (JSON.parse(readFileSync(manifestFile, "utf8")) as { scripts?: Record<string, unknown> }).scripts ?? {};
  } catch (error) {
    throw new UserError(`${join(dir, "package.json")}: not valid JSON: ${(error as Error).message}`);
  }
  if (typeof scripts.generate !== "string") return { dir };
  const manager = packageManagerOf(repoRoot);
  const program = packageManagerProgram(repoRoot, manager);
  const command = `${program === manager ? manager : `npx ${manager}`} run generate`;
  const result = spawnSync(program, ["run", "generate"], {
    cwd: join(repoRoot, dir),
    encoding: "utf8",
    shell: process.platform === "win32",
  });
  if (result.error || result.status !== 0) {
    const output = `${result.stderr ?? ""}\n${result.stdout ?? ""}`.trim().split("\n").slice(-3).join(" | ");
    throw new UserError(
      `${dir}: "${command}" failed${result.error ? `: ${result.error.message}` : ` (exit ${result.status})`}: ${output}`,
      {
        hint: `the pins and copies are updated; fix the generator and run it yourself: cd ${dir} && ${command}`,
      },
    );
  }
  return { dir, command };
}
