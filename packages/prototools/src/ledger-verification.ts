import { createHash } from "node:crypto";
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { isAbsolute, join, posix } from "node:path";
import { UserError } from "@flow/errors";
import semver from "semver";
import { compareSides } from "./contract-comparison";
import { collectSide, releaseSide } from "./contract-sides";
import type { GitRepo } from "./git";
import { expectedFileNames, expectedPackage } from "./proto-layout";
import { parseProtoOutline } from "./proto-outline";
import { ProtoSyntaxError } from "./proto-tokenizer";
import { LEDGER_FILE, type Release, type ReleaseLedger, tagFor } from "./release-ledger";
import { readRepoSettings } from "./repo-settings";
import { schemaChanges } from "./schema-diff";

/** A ledger entry the tools cannot vouch for, blamed on its line of proto-releases.yaml. */
export interface LedgerFinding {
  file: typeof LEDGER_FILE;
  line: number;
  col: number;
  release: Release;
  message: string;
  hint: string;
}

export function formatLedgerFinding(finding: LedgerFinding): string {
  return `${finding.file}:${finding.line}:${finding.col}: ledger: ${finding.message}\n  hint: ${finding.hint}`;
}

/**
 * What verification concluded about one entry. trusted: it is what the gate would have accepted
 * (the contract it names, compatible with its predecessor under the semver rule); untrusted: it
 * is not, or it follows an entry that is not; unavailable: its objects are not in this repository
 * (a shallow clone, a release commit and tree never fetched), so nothing can be said or used.
 */
export type EntryState =
  | { kind: "trusted" }
  | { kind: "untrusted"; finding: LedgerFinding; own: boolean }
  | { kind: "unavailable"; reason: string; hint: string };

const REPAIR_HINT =
  `${LEDGER_FILE} is written only by flow proto release: restore the entry from history ` +
  `(git log -p -- ${LEDGER_FILE}) or remove it, then release again`;

/** The verdict on every entry of a ledger; see verifyLedger. */
export class LedgerVerification {
  constructor(
    private readonly ledger: ReleaseLedger,
    private readonly states: Map<Release, EntryState>,
  ) {}

  /** One finding per entry that is wrong itself (not for those merely following one). */
  get findings(): LedgerFinding[] {
    return [...this.states.values()].flatMap((state) =>
      state.kind === "untrusted" && state.own ? [state.finding] : [],
    );
  }

  stateOf(release: Release): EntryState {
    return this.states.get(release) ?? { kind: "trusted" };
  }

  isUntrusted(release: Release): boolean {
    return this.stateOf(release).kind === "untrusted";
  }

  /** The latest release of a major the ledger can vouch for (or cannot judge), skipping untrusted ones. */
  latestUsableInMajor(name: string, major: number): Release | undefined {
    return this.ledger
      .releasesOf(name)
      .filter((release) => semver.major(release.version) === major && !this.isUntrusted(release))
      .at(-1);
  }

  /** Throws a UserError, blaming the ledger's line, unless `release` may be vendored or compared with. */
  assertUsable(release: Release): void {
    const state = this.stateOf(release);
    if (state.kind === "trusted") return;
    if (state.kind === "unavailable") throw new UserError(state.reason, { hint: state.hint });
    const { finding } = state;
    throw new UserError(
      state.own
        ? `${finding.file}:${finding.line}:${finding.col}: ${finding.message}; refusing to use it`
        : `${release.name} ${release.version} cannot be used: ${finding.file}:${finding.line}:${finding.col}: ${finding.message}`,
      { hint: finding.hint },
    );
  }
}

const verified = new WeakMap<ReleaseLedger, LedgerVerification>();

/**
 * Verifies every ledger entry before anything uses it: its tag and path agree with its name and
 * version; its release commit, when present, holds exactly the recorded tree at the recorded path;
 * the content at the recorded tree id is the contract it claims (its file names and package); and
 * it is compatible with its predecessor in the same major by the semver rule, as the gate compares
 * (buf's FILE rules; and a patch changes no schema: additions are minor). Comparisons that passed are
 * remembered in the git folder by the content they compared, so a second run costs no buf call.
 */
export function verifyLedger(repo: GitRepo, ledger: ReleaseLedger): LedgerVerification {
  const known = verified.get(ledger);
  if (known) return known;
  const prefix = readRepoSettings(repo.root).prefix;
  const cache = new VerifiedComparisons(repo);
  const states = new Map<Release, EntryState>();
  for (const name of ledger.names()) {
    const seen = new Set<string>();
    let previousInMajor = new Map<number, Release>();
    for (const release of ledger.releasesOf(name)) {
      const finding = (message: string, hint = REPAIR_HINT): EntryState => ({
        kind: "untrusted",
        own: true,
        finding: { file: LEDGER_FILE, ...ledger.positionOf(release), release, message, hint },
      });
      const label = `${name} ${release.version}`;
      let state: EntryState;
      if (seen.has(release.version)) state = finding(`${label} is recorded twice`);
      else state = checkEntry(repo, release, prefix, finding);
      seen.add(release.version);
      const major = semver.valid(release.version) ? semver.major(release.version) : -1;
      const previous = previousInMajor.get(major);
      if (state.kind === "trusted" && previous) {
        state = checkSuccession(repo, ledger, release, previous, states.get(previous), cache, finding);
      }
      states.set(release, state);
      previousInMajor = new Map(previousInMajor).set(major, release);
    }
  }
  const verification = new LedgerVerification(ledger, states);
  verified.set(ledger, verification);
  return verification;
}

type FindingOf = (message: string, hint?: string) => EntryState;

/** The entry on its own: names, objects, content. */
function checkEntry(repo: GitRepo, release: Release, prefix: string, finding: FindingOf): EntryState {
  const label = `${release.name} ${release.version}`;
  if (!semver.valid(release.version)) return finding(`${label}: "${release.version}" is not a version`);
  const major = semver.major(release.version);
  if (release.tag !== tagFor(release.name, release.version)) {
    return finding(`${label}: tag "${release.tag}" should be ${tagFor(release.name, release.version)}`);
  }
  if (!release.path.endsWith(`/${release.name}/v${major}`) && release.path !== `${release.name}/v${major}`) {
    return finding(`${label}: path ${release.path} is not a ${release.name}/v${major} folder`);
  }
  if (repo.objectType(release.commit) === "commit") {
    const atCommit = repo.tryRun(["rev-parse", "--verify", "--quiet", `${release.commit}:${release.path}`]);
    if (atCommit === undefined) {
      return finding(`${label}: commit ${release.commit.slice(0, 12)} has no ${release.path}`);
    }
    if (atCommit !== release.tree) {
      return finding(
        `${label}: ${release.commit.slice(0, 12)}:${release.path} is tree ${atCommit}, the ledger says ${release.tree}`,
      );
    }
  }
  const type = repo.objectType(release.tree);
  if (type === undefined) {
    return {
      kind: "unavailable",
      reason: `${label}: neither its tree ${release.tree.slice(0, 12)} nor its commit ${release.commit.slice(0, 12)} is in this repository`,
      hint:
        `fetch the release: git fetch origin tag ${release.tag} (in a shallow clone: git fetch --unshallow); ` +
        "a release squash-merged away survives only if the merged commit holds the released folder unchanged (docs/contracts.md)",
    };
  }
  if (type !== "tree") return finding(`${label}: ${release.tree} is a ${type}, not a tree`);
  return checkContent(repo, release, prefix, finding);
}

/** The content at the recorded tree id must be the contract the entry claims to be. */
function checkContent(repo: GitRepo, release: Release, prefix: string, finding: FindingOf): EntryState {
  const label = `${release.name} ${release.version}`;
  const major = semver.major(release.version);
  const files = (repo.tryRun(["ls-tree", "-r", "--name-only", "-z", release.tree]) ?? "")
    .split("\0")
    .filter((file) => file.endsWith(".proto"));
  const allowed = expectedFileNames(release.name);
  if (files.length === 0) return finding(`${label}: tree ${release.tree.slice(0, 12)} holds no .proto file`);
  const expected = expectedPackage(prefix, release.name, major);
  for (const file of files) {
    const base = posix.basename(file, ".proto");
    if (file.includes("/") || !allowed.includes(base)) {
      return finding(
        `${label}: tree ${release.tree.slice(0, 12)} holds ${file}, not the ${release.name} contract (${allowed.map((name) => `${name}.proto`).join(" or ")})`,
      );
    }
    let packageName: string | undefined;
    try {
      packageName = parseProtoOutline(repo.run(["cat-file", "blob", `${release.tree}:${file}`])).package
        ?.name;
    } catch (error) {
      if (!(error instanceof ProtoSyntaxError)) throw error;
      return finding(
        `${label}: ${file} in tree ${release.tree.slice(0, 12)} does not parse: ${error.message}`,
      );
    }
    if (packageName !== expected) {
      return finding(
        `${label}: ${file} in tree ${release.tree.slice(0, 12)} is package ${packageName ?? "(none)"}, not ${expected}`,
      );
    }
  }
  return { kind: "trusted" };
}

/** Compatible with its predecessor in the major, as the gate compared them. */
function checkSuccession(
  repo: GitRepo,
  ledger: ReleaseLedger,
  release: Release,
  previous: Release,
  previousState: EntryState | undefined,
  cache: VerifiedComparisons,
  finding: FindingOf,
): EntryState {
  const label = `${release.name} ${release.version}`;
  if (previousState?.kind === "untrusted") {
    const cause = previousState.finding;
    return {
      kind: "untrusted",
      own: false,
      finding: {
        ...cause,
        message: `it follows ${previous.name} ${previous.version}, which is not trusted: ${cause.message}`,
      },
    };
  }
  if (previousState?.kind === "unavailable") return previousState;
  const contractDir = `${release.name}/v${semver.major(release.version)}`;
  const current = collectSide(releaseSide(repo, ledger, release));
  const before = collectSide(releaseSide(repo, ledger, previous));
  const patch = semver.minor(release.version) === semver.minor(previous.version);
  const key = fingerprint(patch ? "patch" : "minor", current, before);
  if (cache.has(key)) return { kind: "trusted" };
  const compared = compareSides(contractDir, current, before);
  if (compared.compileError) {
    const error = compared.compileError;
    const which = error.side === "current" ? release.version : previous.version;
    return finding(
      `${label} cannot be compared with ${previous.version}: ${which} does not compile: ${error.relative ?? ""}:${error.line}:${error.col}: ${error.message}`,
    );
  }
  const first = compared.changes[0];
  if (first) {
    return finding(
      `${label} breaks ${previous.version} in ${compared.changes.length} place(s), first ${first.relative}:${first.line}:${first.col}: ${first.rule}: ${first.message}`,
      `the gate refuses this entry: a breaking change is a new major. ${REPAIR_HINT}`,
    );
  }
  if (patch) {
    const changed = schemaChanges(contractDir, current, before)[0];
    if (changed) {
      return finding(
        `${label} is a patch of ${previous.version} but ${changed.message} (${changed.relative}:${changed.line}:${changed.col})`,
        `a patch changes no schema; additions are a minor release. ${REPAIR_HINT}`,
      );
    }
  }
  cache.add(key);
  return { kind: "trusted" };
}

function fingerprint(kind: string, current: Map<string, string>, before: Map<string, string>): string {
  const hash = createHash("sha256").update(`flow-ledger-verification-1 ${kind}\n`);
  for (const [side, files] of [
    ["current", current],
    ["before", before],
  ] as const) {
    for (const relative of [...files.keys()].sort()) {
      hash.update(`${side} ${relative} ${files.get(relative)?.length}\n${files.get(relative)}\n`);
    }
  }
  return hash.digest("hex");
}

/**
 * Successions found compatible, by the fingerprint of what was compared, in the repository's git
 * folder (never committed, shared by every worktree): a result depends only on the content
 * compared, so it stays true.
 */
class VerifiedComparisons {
  private readonly file: string | undefined;
  private readonly keys = new Set<string>();

  constructor(repo: GitRepo) {
    const path = repo.tryRun(["rev-parse", "--git-common-dir"]);
    this.file =
      path === undefined
        ? undefined
        : join(isAbsolute(path) ? path : join(repo.root, path), "flow-proto-verified");
    if (this.file && existsSync(this.file)) {
      for (const line of readFileSync(this.file, "utf8").split("\n")) if (line) this.keys.add(line);
    }
  }

  has(key: string): boolean {
    return this.keys.has(key);
  }

  add(key: string): void {
    this.keys.add(key);
    if (!this.file) return;
    try {
      appendFileSync(this.file, `${key}\n`);
    } catch {
      // a read-only git folder: verification just runs again next time
    }
  }
}
