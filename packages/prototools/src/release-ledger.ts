import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "@flow/errors";
import semver from "semver";
import { LineCounter, parseDocument, stringify } from "yaml";

/**
 * The release ledger: every contract release with its commit and git tree id, committed at the
 * repository root. Tags are a convenience for people; the ledger is what vendoring trusts, so a
 * clone without tags (`git clone` of main has none) can still resolve and verify every pin.
 */
export const LEDGER_FILE = "proto-releases.yaml";

export interface Release {
  /** The contract's name: its folder, e.g. "event" or "source_service". */
  name: string;
  /** Semantic version; its major is the `v<major>` folder released. */
  version: string;
  /** The per-file release tag, see tagFor(). */
  tag: string;
  /** The released folder, repository-relative: `proto/event/v1`. */
  path: string;
  commit: string;
  /** `git rev-parse <commit>:<path>`: what a vendored copy's tree must equal. */
  tree: string;
  /** ISO date of the release. */
  date: string;
}

/** Tag scheme: `proto-<name>@v<version>`, e.g. `proto-event@v1.0.0`. */
export function tagFor(name: string, version: string): string {
  return `proto-${name}@v${version}`;
}

const HEADER =
  "# Contract releases, written by `flow proto release`. Vendoring resolves and verifies pins\n" +
  "# against this file, so it works without tags or network. Do not edit by hand.\n";

/** Where an entry sits in the ledger file, 1-based, for findings that blame it. */
export interface LedgerPosition {
  line: number;
  col: number;
}

export class ReleaseLedger {
  private constructor(
    readonly file: string,
    private readonly entries: Release[],
    private readonly positions: Map<Release, LedgerPosition> = new Map(),
  ) {}

  static read(root: string): ReleaseLedger {
    const file = join(root, LEDGER_FILE);
    if (!existsSync(file)) return new ReleaseLedger(file, []);
    const lineCounter = new LineCounter();
    const document = parseDocument(readFileSync(file, "utf8"), { lineCounter });
    if (document.errors.length > 0) {
      throw new UserError(`${LEDGER_FILE}: not valid YAML: ${document.errors[0]?.message}`);
    }
    const data: unknown = document.toJS();
    const releases = (data as { releases?: unknown } | null)?.releases ?? [];
    if (!Array.isArray(releases)) throw new UserError(`${LEDGER_FILE}: "releases" must be a list`);
    releases.forEach((entry, index) => {
      for (const key of ["name", "version", "tag", "path", "commit", "tree"] as const) {
        if (typeof entry?.[key] !== "string") {
          throw new UserError(`${LEDGER_FILE}: release #${index + 1} has no "${key}"`);
        }
      }
    });
    const positions = new Map<Release, LedgerPosition>();
    const items = (document.get("releases", true) as { items?: { range?: [number] }[] } | undefined)?.items;
    (releases as Release[]).forEach((release, index) => {
      const offset = items?.[index]?.range?.[0];
      if (offset !== undefined) positions.set(release, lineCounter.linePos(offset));
    });
    return new ReleaseLedger(file, releases as Release[], positions);
  }

  /** The line and column of an entry in the ledger file (1:1 when unknown, e.g. not yet written). */
  positionOf(release: Release): LedgerPosition {
    return this.positions.get(release) ?? { line: 1, col: 1 };
  }

  all(): readonly Release[] {
    return this.entries;
  }

  names(): string[] {
    return [...new Set(this.entries.map((release) => release.name))].sort();
  }

  releasesOf(name: string): Release[] {
    return this.entries
      .filter((release) => release.name === name)
      .sort((a, b) => semver.compare(a.version, b.version));
  }

  find(name: string, version: string): Release | undefined {
    return this.entries.find((release) => release.name === name && release.version === version);
  }

  /** The latest release of `name` within `major`, if any. */
  latestInMajor(name: string, major: number): Release | undefined {
    return this.releasesOf(name)
      .filter((release) => semver.major(release.version) === major)
      .at(-1);
  }

  add(release: Release): void {
    if (this.find(release.name, release.version)) {
      throw new UserError(`${release.name} ${release.version} is already released`);
    }
    this.entries.push(release);
    this.entries.sort((a, b) => a.name.localeCompare(b.name) || semver.compare(a.version, b.version));
  }

  write(): void {
    writeFileSync(this.file, HEADER + stringify({ releases: this.entries }, { lineWidth: 0 }));
  }
}
