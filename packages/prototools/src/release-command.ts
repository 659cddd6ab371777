import { posix } from "node:path";
import { UserError, UserErrors } from "@flow/errors";
import semver from "semver";
import { compareWithRelease } from "./breaking-check";
import { type CommandScope, openCommandContext } from "./command-context";
import { type ContractFolder, findAuthoredContracts } from "./contract-catalog";
import { appendChangelog } from "./contract-changelog";
import { formatLintFinding, lintContracts } from "./contract-lint";
import { collectSide, releaseSide, worktreeSide } from "./contract-sides";
import type { GitRepo } from "./git";
import { verifyLedger } from "./ledger-verification";
import { expectedPackage } from "./proto-layout";
import { recordRelease } from "./release";
import { type Release, type ReleaseLedger, tagFor } from "./release-ledger";
import { schemaChanges } from "./schema-diff";

export const RELEASE_KINDS = ["major", "minor", "patch"] as const;
export type ReleaseKind = (typeof RELEASE_KINDS)[number];

export interface ReleaseCommandOptions extends CommandScope {
  /** A contract name (`event`) or its folder (`proto/event/v1`). */
  contract: string;
  kind: string;
  /** For minor/patch: which major to release when several are; the highest released by default. */
  major?: number;
  /** A line for the changelog entry. */
  note?: string;
  /** Check everything, change nothing. */
  dryRun?: boolean;
}

export interface ReleaseCommandResult {
  release: Release;
  previous?: Release;
  /** Repository-relative; undefined on a dry run. */
  changelog?: string;
  dryRun: boolean;
}

/**
 * `flow proto release <name> major|minor|patch`: refuses on lint findings, on a breaking change
 * in a minor or patch, on uncommitted changes to the contract and on an existing tag; otherwise
 * tags HEAD `proto-<name>@v<version>`, records the release (commit + tree) in the ledger and
 * appends to the contract's changelog. The ledger and changelog are left for the user to commit.
 */
export function runReleaseCommand(options: ReleaseCommandOptions): ReleaseCommandResult {
  if (!(RELEASE_KINDS as readonly string[]).includes(options.kind)) {
    throw new UserError(`"${options.kind}" is not a release kind`, { hint: "use major, minor or patch" });
  }
  const kind = options.kind as ReleaseKind;
  const context = openCommandContext(options);
  const { repo, ledger } = context;
  const folders = findAuthoredContracts(repo, ledger, options.contract);
  const name = folders[0]?.name as string;
  const { folder, version, previous } = plan(ledger, name, folders, kind, options.major);
  // A release builds on its predecessor: one the ledger cannot vouch for is refused, blaming its line.
  if (previous) verifyLedger(repo, ledger).assertUsable(previous);

  const tag = tagFor(name, version);
  if (repo.resolve(`refs/tags/${tag}`) || ledger.find(name, version)) {
    throw new UserError(`${name} ${version} is already released (tag ${tag} exists)`, {
      hint: "releases are immutable: choose the next version, or fetch the ledger if it is behind",
    });
  }
  const head = repo.resolve("HEAD");
  if (!head) throw new UserError("the repository has no commit yet", { hint: "commit the contract first" });
  const dirty = repo
    .run(["status", "--porcelain=v1", "--untracked-files=all", "--", folder.path])
    .split("\n")
    .filter((line) => line.length > 3);
  if (dirty.length > 0) {
    throw new UserError(
      `${folder.path} has uncommitted changes (${dirty.map((line) => line.slice(3)).join(", ")})`,
      {
        hint: "a release is a commit: commit the contract first, then release",
      },
    );
  }

  const report = lintContracts(repo, { prefix: context.settings.prefix, ledger, paths: [folder.path] });
  const problems = [...report.unparsable, ...report.findings];
  if (problems.length > 0) {
    throw new UserErrors(
      [
        ...problems.map((finding) => new UserError(formatLintFinding(finding), { exitCode: 1 })),
        new UserError(`release of ${name} ${version} refused: ${problems.length} lint finding(s)`, {
          exitCode: 1,
          hint: `fix them (flow proto lint ${folder.path}), commit, and release again`,
        }),
      ],
      `lint findings in ${folder.path}`,
    );
  }

  if (previous) {
    const tree = repo.tryRun(["rev-parse", "--verify", "--quiet", `${head}:${folder.path}`]);
    if (tree === previous.tree) {
      throw new UserError(`${folder.path} has not changed since ${name} ${previous.version}`, {
        hint:
          options.major === undefined
            ? changedOtherMajor(context.repo, ledger, folders, folder, kind, head)
            : "there is nothing to release",
      });
    }
    const changes = compareWithRelease(repo, ledger, folder, previous);
    if (changes.length > 0) {
      const next = folder.major + 1;
      throw new UserErrors(
        [
          ...changes.map(
            (change) =>
              new UserError(
                `${change.file}:${change.line}:${change.col}: ${change.rule}: ${change.message}`,
                { exitCode: 1 },
              ),
          ),
          new UserError(
            `a ${kind} release of ${name} cannot break ${previous.version}: ${changes.length} breaking change(s)`,
            {
              exitCode: 1,
              hint:
                `undo them, or break in a new major: add ${folder.root}/${name}/v${next}/ (package ` +
                `${expectedPackage(context.settings.prefix, name, next)}) and run: flow proto release ${name} major`,
            },
          ),
        ],
        `breaking changes in ${folder.path}`,
      );
    }
  }

  if (previous && kind === "patch") {
    const contractDir = `${name}/v${folder.major}`;
    const added = schemaChanges(
      contractDir,
      collectSide(worktreeSide(repo, folder)),
      collectSide(releaseSide(repo, ledger, previous)),
    );
    if (added.length > 0) {
      throw new UserErrors(
        [
          ...added.map(
            (change) =>
              new UserError(
                `${posix.join(folder.root, change.relative)}:${change.line}:${change.col}: ${change.message}`,
                {
                  exitCode: 1,
                },
              ),
          ),
          new UserError(
            `a patch release of ${name} changes no schema, but this one changes ${previous.version} in ${added.length} place(s)`,
            {
              exitCode: 1,
              hint: `additions are a minor release: flow proto release ${name} minor${options.major !== undefined ? ` --major ${options.major}` : ""}`,
            },
          ),
        ],
        `schema changes in ${folder.path}`,
      );
    }
  }

  const release: Release = {
    name,
    version,
    tag,
    path: folder.path,
    commit: head,
    tree: repo.run(["rev-parse", `${head}:${folder.path}`]).trim(),
    date: new Date().toISOString().slice(0, 10),
  };
  if (options.dryRun) return { release, ...(previous ? { previous } : {}), dryRun: true };
  const recorded = recordRelease(repo, ledger, { name, version, path: folder.path, commit: head });
  const changelog = appendChangelog(repo, recorded, previous, options.note);
  return { release: recorded, ...(previous ? { previous } : {}), changelog, dryRun: false };
}

/** Without --major, a minor or patch goes to the highest major; point at another that did change. */
function changedOtherMajor(
  repo: GitRepo,
  ledger: ReleaseLedger,
  folders: ContractFolder[],
  chosen: ContractFolder,
  kind: ReleaseKind,
  head: string,
): string {
  for (const other of [...folders].reverse()) {
    if (other === chosen) continue;
    const latest = ledger.latestInMajor(other.name, other.major);
    if (!latest) continue;
    const tree = repo.tryRun(["rev-parse", "--verify", "--quiet", `${head}:${other.path}`]);
    if (tree !== undefined && tree !== latest.tree) {
      return `${other.path} has changed since ${other.name} ${latest.version}: release it with flow proto release ${other.name} ${kind} --major ${other.major}`;
    }
  }
  return "there is nothing to release";
}

interface ReleasePlan {
  folder: ContractFolder;
  version: string;
  /** The release this one follows within the same major. */
  previous?: Release;
}

function plan(
  ledger: ReleaseLedger,
  name: string,
  folders: ContractFolder[],
  kind: ReleaseKind,
  major?: number,
): ReleasePlan {
  const releases = ledger.releasesOf(name);
  const releasedMajors = [...new Set(releases.map((release) => semver.major(release.version)))];
  const folderOf = (wanted: number) => folders.find((folder) => folder.major === wanted);
  const root = folders[0]?.root ?? "";

  if (kind === "major") {
    const target =
      major ?? (releasedMajors.length > 0 ? Math.max(...releasedMajors) + 1 : (folders[0]?.major ?? 1));
    if (releasedMajors.includes(target)) {
      throw new UserError(`${name} v${target} is already released`, {
        hint: `a release within v${target} is minor or patch: flow proto release ${name} minor`,
      });
    }
    const folder = folderOf(target);
    if (!folder) {
      throw new UserError(`a major release of ${name} needs the folder ${root}/${name}/v${target}/`, {
        hint: `copy the latest major there, change its package to end in .v${target}, make the breaking changes, commit, and release again`,
      });
    }
    return { folder, version: `${target}.0.0` };
  }

  if (releases.length === 0) {
    throw new UserError(`${name} has never been released`, {
      hint: `the first release of a contract is a major one: flow proto release ${name} major`,
    });
  }
  const target =
    major ?? Math.max(...releasedMajors.filter((released) => folderOf(released) !== undefined), -1);
  const previous = ledger.latestInMajor(name, target);
  const folder = folderOf(target);
  if (!previous || !folder) {
    throw new UserError(
      previous
        ? `${name} v${target} has no folder ${root}/${name}/v${target}/`
        : `nothing of ${name} v${target} is released yet`,
      { hint: `the first release of a major is: flow proto release ${name} major` },
    );
  }
  return { folder, version: semver.inc(previous.version, kind) as string, previous };
}
