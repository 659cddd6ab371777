import { reportBreakingResult, runBreakingCommand } from "./breaking-command";
import { dataTypeProto, familyLayoutRepo } from "./test-support/fixture-repos";
import type { TempRepo } from "./test-support/temp-repo";

const PREFIX = "flow.microservices";
const EVENT = "proto/event/v1/event.proto";

// --against compares with any git ref, as `buf breaking --against .git#ref=...` can: here main
// holds an unreleased field that the working tree removes, which only a comparison with main sees.
describe("flow proto breaking --against <git ref>", () => {
  let temp: TempRepo;
  beforeEach(() => {
    temp = familyLayoutRepo(PREFIX);
    temp.write(EVENT, dataTypeProto(PREFIX, "event", "  string id = 1;\n  string kind = 2;\n"));
    temp.commit("event: kind (not released yet)");
    temp.git("switch", "-q", "-c", "feature");
  });
  afterEach(() => temp.remove());

  const against = (ref: string, names: string[] = []) =>
    runBreakingCommand({ root: temp.root, against: ref, names }).comparisons.map(
      (c) =>
        `${c.folder.path} ${c.status}${c.changes.map((change) => ` ${change.file}:${change.rule}`).join("")}`,
    );

  it("compares with the folders at the ref, not with the latest release", () => {
    temp.write(EVENT, dataTypeProto(PREFIX, "event"));
    expect(against("main")).toEqual([
      "proto/checkpoint/v1 unchanged",
      `proto/event/v1 compared ${EVENT}:FIELD_NO_DELETE`,
    ]);
    expect(runBreakingCommand({ root: temp.root }).comparisons.every((c) => c.changes.length === 0)).toBe(
      true,
    );
    expect(against("proto-event@v1.0.0", ["event"])).toEqual(["proto/event/v1 unchanged"]);
  });

  it("reports a compatible change, a new folder and a deleted one, and prints the ref", () => {
    temp.write(
      EVENT,
      dataTypeProto(PREFIX, "event", "  string id = 1;\n  string kind = 2;\n  string at = 3;\n"),
    );
    temp.write("proto/audit/v1/audit.proto", dataTypeProto(PREFIX, "audit"));
    temp.git("rm", "-r", "-q", "proto/checkpoint/v1");
    expect(against("main")).toEqual([
      "proto/audit/v1 new",
      "proto/checkpoint/v1 deleted proto/checkpoint/v1/checkpoint.proto:FILE_NO_DELETE",
      "proto/event/v1 compared",
    ]);
    const lines: string[] = [];
    jest.spyOn(console, "log").mockImplementation((line: string) => lines.push(line));
    jest.spyOn(console, "error").mockImplementation((line: string) => lines.push(line));
    try {
      const code = reportBreakingResult(
        runBreakingCommand({ root: temp.root, against: "main", names: ["event"] }),
      );
      expect(code).toBe(0);
    } finally {
      jest.restoreAllMocks();
    }
    expect(lines).toEqual(["event v1 (proto/event/v1): compatible with main"]);
  });

  it("refuses a ref git does not know", () => {
    expect(() => runBreakingCommand({ root: temp.root, against: "nope" })).toThrow(
      "--against nope: no such branch, tag or commit in this repository",
    );
  });
});
