import { UserError } from "@flow/errors";
import { checkBreaking } from "./breaking-check";
import { runBreakingCommand } from "./breaking-command";
import { runLintCommand } from "./lint-command";
import { runUpgradeCommand } from "./pin-commands";
import { readLock } from "./pin-lock";
import { runReleaseCommand } from "./release-command";
import { ReleaseLedger } from "./release-ledger";
import {
  addSourcesFamily,
  dataTypeProto,
  familyLayoutRepo,
  manifestYaml,
} from "./test-support/fixture-repos";
import type { TempRepo } from "./test-support/temp-repo";
import { runVendorCommand } from "./vendor-command";
import { vendorDir } from "./vendoring";

const LEDGER = "proto-releases.yaml";

/** The line of the ledger entry `name version` (where its first key starts). */
function entryLine(temp: TempRepo, name: string, version: string): number {
  const lines = temp.read(LEDGER).split("\n");
  return (
    lines.findIndex(
      (line, index) => line === `  - name: ${name}` && lines[index + 1] === `    version: ${version}`,
    ) + 1
  );
}

/** Appends an entry to the ledger by hand, as someone bypassing `flow proto release` would. */
function handWrite(temp: TempRepo, entry: Record<string, string>): void {
  const lines = Object.entries(entry).map(
    ([key, value], index) => `${index === 0 ? "  - " : "    "}${key}: ${value}`,
  );
  temp.write(LEDGER, `${temp.read(LEDGER).trimEnd()}\n${lines.join("\n")}\n`);
}

describe("every ledger entry is verified before anything uses it", () => {
  let temp: TempRepo;
  beforeEach(() => {
    temp = familyLayoutRepo();
    addSourcesFamily(temp); // sources/ vendors event 1.0.0
    temp.write("sources/demo/proto-pins.yaml", manifestYaml(["event@^1"]));
    vendorDir(temp.repo, ReleaseLedger.read(temp.root), "sources/demo");
    temp.commit("demo vendors event");
  });
  afterEach(() => temp.remove());

  it("a hand-written entry pointing at a breaking commit fails every check, and upgrade refuses it", () => {
    temp.write(
      "proto/event/v1/event.proto",
      dataTypeProto("flow.microservices", "event", "  bytes id = 1;\n"),
    );
    const commit = temp.commit("event: id as bytes");
    handWrite(temp, {
      name: "event",
      version: "1.1.0",
      tag: "proto-event@v1.1.0",
      path: "proto/event/v1",
      commit,
      tree: temp.git("rev-parse", `${commit}:proto/event/v1`),
      date: "2026-12-02",
    });
    temp.commit("event 1.1.0, by hand");
    const line = entryLine(temp, "event", "1.1.0");
    const blame = `${LEDGER}:${line}:5`;

    const breaking = runBreakingCommand({ root: temp.root });
    expect(breaking.ledgerFindings.map((f) => `${f.file}:${f.line}:${f.col}: ${f.message}`)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^${blame}: event 1\\.1\\.0 breaks 1\\.0\\.0 in 1 place\\(s\\), first event/v1/event\\.proto:\\d+:\\d+: FIELD_SAME_TYPE`,
        ),
      ),
    ]);
    // The gate compares with what it accepted (1.0.0), so the change itself is found too.
    expect(breaking.comparisons.find((c) => c.folder.path === "proto/event/v1")).toMatchObject({
      status: "compared",
      against: { version: "1.0.0" },
      changes: [expect.objectContaining({ rule: "FIELD_SAME_TYPE" })],
    });
    expect(
      runLintCommand({ root: temp.root }).findings.map((f) => `${f.file}:${f.line}:${f.col}: ${f.rule}`),
    ).toEqual([`${blame}: release-ledger`]);
    expect(
      runVendorCommand({ root: temp.root, check: true }).findings.map((f) => `${f.file}:${f.line}`),
    ).toEqual([`${LEDGER}:${line}`]);

    expect(() => runUpgradeCommand({ root: temp.root, generate: false })).toThrow(UserError);
    expect(() => runUpgradeCommand({ root: temp.root, generate: false })).toThrow(
      new RegExp(`^${blame}: event 1\\.1\\.0 breaks 1\\.0\\.0 .*; refusing to use it$`),
    );
    expect(readLock(temp.root, "sources/demo")?.map((entry) => entry.version)).toEqual(["1.0.0"]);
  });

  it("a tampered tree id is blamed on the ledger once, and no vendoring copies the wrong contract", () => {
    const eventTree = temp.git("rev-parse", "HEAD:proto/event/v1");
    const checkpointTree = temp.git("rev-parse", "HEAD:proto/checkpoint/v1");
    temp.write(LEDGER, temp.read(LEDGER).split(eventTree).join(checkpointTree));
    temp.commit("tampered ledger");
    const line = entryLine(temp, "event", "1.0.0");

    const findings = runVendorCommand({ root: temp.root, check: true }).findings;
    expect(findings.map((f) => `${f.file}:${f.line}:${f.col}`)).toEqual([`${LEDGER}:${line}:5`]);
    expect(findings[0]?.message).toContain(`is tree ${eventTree}, the ledger says ${checkpointTree}`);
    expect(runLintCommand({ root: temp.root }).findings.map((f) => `${f.file}:${f.rule}`)).toEqual([
      `${LEDGER}:release-ledger`,
    ]);

    for (const dir of ["sources", "sources/demo"]) {
      expect(() => runVendorCommand({ root: temp.root, dirs: [dir], force: true })).toThrow(
        new RegExp(`^${LEDGER}:${line}:5: event 1\\.0\\.0: .*; refusing to use it$`),
      );
    }
    expect(temp.git("status", "--porcelain")).toBe("");
  });

  it("a tree id pointing at another contract is caught by its content when the commit is gone", () => {
    const checkpointTree = temp.git("rev-parse", "HEAD:proto/checkpoint/v1");
    handWrite(temp, {
      name: "event",
      version: "1.0.1",
      tag: "proto-event@v1.0.1",
      path: "proto/event/v1",
      commit: "0123456789abcdef0123456789abcdef01234567",
      tree: checkpointTree,
      date: "2026-12-02",
    });
    const ledger = ReleaseLedger.read(temp.root);
    const comparisons = checkBreaking(temp.repo, ledger, ["event"]);
    expect(comparisons[0]).toMatchObject({ status: "unchanged", against: { version: "1.0.0" } });
    expect(runBreakingCommand({ root: temp.root }).ledgerFindings.map((f) => f.message)).toEqual([
      `event 1.0.1: tree ${checkpointTree.slice(0, 12)} holds checkpoint.proto, not the event contract (event.proto)`,
    ]);
  });

  it("a release on top of an entry the gate never accepted is refused", () => {
    const checkpointTree = temp.git("rev-parse", "HEAD:proto/checkpoint/v1");
    temp.write(
      LEDGER,
      temp.read(LEDGER).split(temp.git("rev-parse", "HEAD:proto/event/v1")).join(checkpointTree),
    );
    temp.write("proto/event/v1/event.proto", `${temp.read("proto/event/v1/event.proto")}// more\n`);
    temp.commit("event: comment");
    expect(() => runReleaseCommand({ root: temp.root, contract: "event", kind: "patch" })).toThrow(
      /^proto-releases\.yaml:\d+:5: event 1\.0\.0: .*refusing to use it$/,
    );
  });
});
