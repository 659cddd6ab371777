import { checkBreaking } from "./breaking-check";
import { reportBreakingResult, runBreakingCommand } from "./breaking-command";
import { runLintCommand } from "./lint-command";
import { ReleaseLedger } from "./release-ledger";
import { addSourcesFamily, familyLayoutRepo } from "./test-support/fixture-repos";
import type { TempRepo } from "./test-support/temp-repo";
import { runVendorCommand } from "./vendor-command";

// A released major is never deleted: services built on it keep running, and every vendored copy
// points back at it. `git rm` of its folder, staged or committed, must fail every check.
describe("a released contract deleted with git rm", () => {
  let temp: TempRepo;
  beforeEach(() => {
    temp = familyLayoutRepo();
    addSourcesFamily(temp); // sources/ vendors event 1.0.0
  });
  afterEach(() => temp.remove());

  const checks = () => ({
    breaking: checkBreaking(temp.repo, ReleaseLedger.read(temp.root)).flatMap((c) =>
      c.changes.map((change) => `${change.file}:${change.rule}`),
    ),
    lint: runLintCommand({ root: temp.root }).findings.map((f) => `${f.file}:${f.rule}`),
    vendorCheck: runVendorCommand({ root: temp.root, check: true }).findings.map((f) => f.file),
  });

  it.each([
    ["staged", false],
    ["committed", true],
  ])("is breaking, a lint finding and a vendor --check finding (%s)", (_how, commit) => {
    temp.git("rm", "-r", "-q", "proto/event/v1");
    if (commit) temp.commit("drop event v1");
    expect(checks()).toEqual({
      breaking: ["proto/event/v1/event.proto:FILE_NO_DELETE"],
      lint: ["proto/event/v1/event.proto:released-deleted"],
      vendorCheck: ["proto/event/v1/event.proto"],
    });
  });

  it("is reported when the contract is named, with a hint that restores it, exit 1", () => {
    temp.git("rm", "-r", "-q", "proto/event/v1");
    const comparisons = runBreakingCommand({ root: temp.root, names: ["event"] }).comparisons;
    expect(comparisons.map((c) => `${c.folder.path} ${c.status}`)).toEqual(["proto/event/v1 deleted"]);
    const lines: string[] = [];
    jest.spyOn(console, "error").mockImplementation((line: string) => lines.push(line));
    try {
      expect(reportBreakingResult(runBreakingCommand({ root: temp.root }), { quiet: true })).toBe(1);
    } finally {
      jest.restoreAllMocks();
    }
    expect(lines[0]).toMatch(/^proto\/event\/v1\/event\.proto:1:1: FILE_NO_DELETE: /);
    expect(lines[1]).toMatch(/hint: .*Restore it: git checkout [0-9a-f]{12} -- proto\/event\/v1$/);
  });

  it("a new major beside the deleted one does not make the deletion compatible", () => {
    temp.git("mv", "proto/event/v1", "proto/event/v2");
    temp.write(
      "proto/event/v2/event.proto",
      temp.read("proto/event/v2/event.proto").replace("event.v1;", "event.v2;"),
    );
    expect(checks().breaking).toEqual(["proto/event/v1/event.proto:FILE_NO_DELETE"]);
  });

  it("a release whose folder this history never had (a service's own repository) is not deleted", () => {
    // As in a service's own repository: Flow's ledger, copies vendored by tree id, and neither
    // Flow's release commit nor the released folder in this history.
    const commit =
      /path: proto\/event\/v1\n {4}commit: ([0-9a-f]{40})/.exec(temp.read("proto-releases.yaml"))?.[1] ?? "";
    const absent = "c".repeat(40);
    temp.write(
      "proto-releases.yaml",
      temp
        .read("proto-releases.yaml")
        .split(commit)
        .join(absent)
        .replace("path: proto/event/v1", "path: platform/proto/event/v1"),
    );
    temp.write(
      "sources/proto-pins.lock.yaml",
      temp.read("sources/proto-pins.lock.yaml").split(commit).join(absent),
    );
    temp.git("rm", "-r", "-q", "proto/event/v1");
    expect(checks()).toEqual({ breaking: [], lint: [], vendorCheck: [] });
  });
});
