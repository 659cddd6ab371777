import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, posix } from "node:path";
import type { GitRepo } from "./git";
import type { Release } from "./release-ledger";

/**
 * A contract's changelog sits beside its major folders (`proto/event/CHANGELOG.md` next to
 * `proto/event/v1/`), not inside one: a file inside `v1/` would change the released tree, so
 * every vendored copy would carry it and no copy could match the tree recorded for the release.
 */
export function changelogPath(releasePath: string): string {
  return posix.join(posix.dirname(releasePath), "CHANGELOG.md");
}

/**
 * Appends the release's entry (newest last): version, date, tag, commit and tree, then the
 * subjects of the commits that touched the contract folder since the previous release (or, for
 * a first release, ever), and an optional note. Returns the changelog's repository-relative path.
 */
export function appendChangelog(
  repo: GitRepo,
  release: Release,
  previous: Release | undefined,
  note?: string,
): string {
  const path = changelogPath(release.path);
  const file = join(repo.root, path);
  const subjects = subjectsSince(repo, release, previous);
  const lines = [
    `## ${release.version} (${release.date})`,
    "",
    `Tag \`${release.tag}\`, commit \`${release.commit.slice(0, 12)}\`, tree \`${release.tree.slice(0, 12)}\`${previous ? `; previous release ${previous.version}` : ""}.`,
    "",
    ...(note ? [note, ""] : []),
    ...(subjects.length > 0
      ? subjects.map((subject) => `- ${subject}`)
      : ["- (no commit touched the folder)"]),
    "",
  ];
  const header = `# ${release.name} changelog\n\nReleases of the ${release.name} contract, newest last. Written by \`flow proto release\`.\n`;
  const existing = existsSync(file) ? readFileSync(file, "utf8") : header;
  writeFileSync(file, `${existing.replace(/\n*$/, "\n")}\n${lines.join("\n")}`);
  return path;
}

/**
 * The subjects of the commits that touched the release's folder since the previous release. When
 * the previous release commit is gone (squash- or rebase-merged), the history is walked back to
 * the first commit holding the previous release's tree instead.
 */
function subjectsSince(repo: GitRepo, release: Release, previous: Release | undefined): string[] {
  const lines = (range: string[]) =>
    repo
      .run(["log", "--format=%H %s", ...range, "--", release.path])
      .split("\n")
      .map((line) => line.trim())
      .filter(Boolean);
  if (!previous) return lines([release.commit]).map(subjectOf);
  if (repo.objectType(previous.commit) === "commit") {
    return lines([`${previous.commit}..${release.commit}`]).map(subjectOf);
  }
  const subjects: string[] = [];
  for (const line of lines([release.commit])) {
    const commit = line.slice(0, line.indexOf(" "));
    if (repo.tryRun(["rev-parse", "--verify", "--quiet", `${commit}:${release.path}`]) === previous.tree)
      break;
    subjects.push(subjectOf(line));
  }
  return subjects;
}

function subjectOf(line: string): string {
  return line.slice(line.indexOf(" ") + 1);
}
