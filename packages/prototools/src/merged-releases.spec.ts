import { runBreakingCommand } from "./breaking-command";
import { runLintCommand } from "./lint-command";
import { runReleaseCommand } from "./release-command";
import { addSourcesFamily, dataTypeProto, familyLayoutRepo } from "./test-support/fixture-repos";
import type { TempRepo } from "./test-support/temp-repo";
import { runVendorCommand } from "./vendor-command";

const EVENT = "proto/event/v1/event.proto";
const PREFIX = "flow.microservices";

/**
 * A release made on a branch, then merged into main by squash or by rebase: the release commit
 * (and its tag, never pushed) is gone, only a new commit with the same tree at the contract's
 * folder remains. The ledger's tree id is enough for every command.
 */
function releaseOnBranchThenMerge(temp: TempRepo, how: "squash" | "rebase"): void {
  temp.git("switch", "-q", "-c", "release-branch");
  temp.write(EVENT, dataTypeProto(PREFIX, "event", "  string id = 1;\n  string kind = 2;\n"));
  temp.commit("event: kind");
  runReleaseCommand({ root: temp.root, contract: "event", kind: "minor" });
  temp.commit("release event 1.1.0");
  temp.git("switch", "-q", "main");
  temp.write("README.md", "a change on main meanwhile\n");
  temp.commit("main moves on");
  if (how === "squash") {
    temp.git("merge", "-q", "--squash", "release-branch");
    temp.commit("event 1.1.0 (squashed)");
  } else {
    temp.git("rebase", "-q", "main", "release-branch");
    temp.git("switch", "-q", "main");
    temp.git("merge", "-q", "--ff-only", "release-branch");
  }
  temp.git("branch", "-q", "-D", "release-branch");
  temp.git("tag", "-d", "proto-event@v1.1.0");
  temp.git("reflog", "expire", "--expire=now", "--all");
  temp.git("gc", "-q", "--prune=now");
}

describe.each(["squash", "rebase"] as const)("a release %s-merged away", (how) => {
  let temp: TempRepo;
  let releaseCommit: string;
  beforeEach(() => {
    temp = familyLayoutRepo(PREFIX);
    addSourcesFamily(temp, PREFIX);
    releaseOnBranchThenMerge(temp, how);
    releaseCommit =
      /commit: ([0-9a-f]{40})/.exec(temp.read("proto-releases.yaml").split("version: 1.1.0")[1] ?? "")?.[1] ??
      "";
  });
  afterEach(() => temp.remove());

  it("is gone as a commit, yet breaking, lint, vendor and vendor --check work from its tree", () => {
    expect(temp.repo.hasObject(releaseCommit)).toBe(false);
    expect(
      runBreakingCommand({ root: temp.root, names: ["event"] }).comparisons.map(
        (c) => `${c.status} ${c.against?.version}`,
      ),
    ).toEqual(["unchanged 1.1.0"]);
    expect(runLintCommand({ root: temp.root }).findings).toEqual([]);

    temp.write("sources/proto-pins.yaml", 'pins:\n  - "event@^1"\n');
    const upgraded = runVendorCommand({ root: temp.root, upgrade: true, dirs: ["sources"] });
    expect(upgraded.actions.map((a) => `${a.action} ${a.version}`)).toEqual(["replaced 1.1.0"]);
    expect(temp.read("sources/proto/event/v1/event.proto")).toBe(temp.read(EVENT));
    expect(runVendorCommand({ root: temp.root, check: true }).findings).toEqual([]);
  });

  it("still gates the next change against it, and the next release builds on it", () => {
    temp.write(EVENT, dataTypeProto(PREFIX, "event", "  string id = 1;\n  bytes kind = 2;\n"));
    const comparison = runBreakingCommand({ root: temp.root, names: ["event"] }).comparisons[0];
    expect(comparison).toMatchObject({ status: "compared", against: { version: "1.1.0" } });
    expect(comparison?.changes.map((change) => change.rule)).toEqual(["FIELD_SAME_TYPE"]);

    temp.write(
      EVENT,
      dataTypeProto(PREFIX, "event", "  string id = 1;\n  string kind = 2;\n  string at = 3;\n"),
    );
    temp.commit("event: at");
    const released = runReleaseCommand({ root: temp.root, contract: "event", kind: "minor" });
    expect(released.release.version).toBe("1.2.0");
    expect(temp.read("proto/event/CHANGELOG.md")).toContain("- event: at");
  });
});

describe("a release whose tree is not in the repository", () => {
  it("says what is missing and how to get it, not that the clone is shallow", () => {
    const temp = familyLayoutRepo(PREFIX);
    try {
      // The event entry names a commit and a tree this repository never had.
      const [before, event = ""] = temp.read("proto-releases.yaml").split("  - name: event\n");
      const gone = event
        .replace(/commit: [0-9a-f]{40}/, `commit: ${"a".repeat(40)}`)
        .replace(/tree: [0-9a-f]{40}/, `tree: ${"b".repeat(40)}`);
      temp.write("proto-releases.yaml", `${before}  - name: event\n${gone}`);
      temp.write(EVENT, `${temp.read(EVENT)}// edit\n`);
      expect(() => runBreakingCommand({ root: temp.root, names: ["event"] })).toThrow(
        `event 1.0.0: neither its tree bbbbbbbbbbbb nor its commit aaaaaaaaaaaa is in this repository`,
      );
    } finally {
      temp.remove();
    }
  });
});
