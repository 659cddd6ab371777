import { runLintCommand } from "./lint-command";
import { runAddCommand } from "./pin-commands";
import { readLock } from "./pin-lock";
import { ReleaseLedger } from "./release-ledger";
import { addSourcesFamily, familyLayoutRepo, manifestYaml, release } from "./test-support/fixture-repos";
import type { TempRepo } from "./test-support/temp-repo";
import { runVendorCommand } from "./vendor-command";
import { checkDir } from "./vendoring";

// A contract cannot be used without what it imports: pinning source_service vendors the event
// contract it imports, and vendoring never removes an import a vendored contract needs.
describe("dependencies are transitive", () => {
  let temp: TempRepo;
  beforeEach(() => {
    temp = familyLayoutRepo();
    addSourcesFamily(temp); // sources/proto/source_service/v1 imports event/v1
    release(temp, "source_service", "1.0.0", "sources/proto/source_service/v1");
    temp.write("sources/demo/README.md", "demo\n");
    temp.commit("release source_service 1.0.0");
  });
  afterEach(() => temp.remove());

  const check = () => runVendorCommand({ root: temp.root, check: true }).findings;

  it("add vendors what the pinned contract imports, and locks it as its dependency", () => {
    const result = runAddCommand({
      root: temp.root,
      dir: "sources/demo",
      spec: "source_service@^1",
      generate: false,
    });
    expect(result.actions.map((a) => `${a.action} ${a.path} ${a.requiredBy?.join(",") ?? ""}`)).toEqual([
      "vendored sources/demo/proto/source_service/v1 ",
      "vendored sources/demo/proto/event/v1 source_service@^1",
    ]);
    expect(temp.read("sources/demo/proto/event/v1/event.proto")).toBe(
      temp.read("proto/event/v1/event.proto"),
    );
    expect(readLock(temp.root, "sources/demo")?.find((entry) => entry.name === "event")).toMatchObject({
      pin: "event@^1",
      version: "1.0.0",
      requiredBy: ["source_service@^1"],
    });
    expect(temp.read("sources/demo/proto-pins.yaml")).not.toContain("event");
    expect(check()).toEqual([]);
    expect(runLintCommand({ root: temp.root }).findings).toEqual([]);
  });

  it("vendor keeps an import a vendored contract needs when its own pin is dropped", () => {
    temp.write("sources/demo/proto-pins.yaml", manifestYaml(["source_service@^1", "event@^1"]));
    runVendorCommand({ root: temp.root, dirs: ["sources/demo"] });
    temp.write("sources/demo/proto-pins.yaml", manifestYaml(["source_service@^1"]));
    const actions = runVendorCommand({ root: temp.root, dirs: ["sources/demo"] }).actions;
    expect(actions.map((a) => `${a.action} ${a.path}`)).toEqual([
      "unchanged sources/demo/proto/source_service/v1",
      "unchanged sources/demo/proto/event/v1",
    ]);
    expect(temp.read("sources/demo/proto/event/v1/event.proto")).toContain("message Event");
    expect(check()).toEqual([]);
  });

  it("--check finds a vendored contract whose import is not vendored beside it", () => {
    temp.write("sources/demo/proto-pins.yaml", manifestYaml(["source_service@^1"]));
    runVendorCommand({ root: temp.root, dirs: ["sources/demo"] });
    const lock = temp.read("sources/demo/proto-pins.lock.yaml");
    // A lock written by an older tool: the dependency was never vendored.
    temp.git("rm", "-r", "-q", "-f", "sources/demo/proto/event");
    temp.write("sources/demo/proto-pins.lock.yaml", lock.replace(/ {2}- pin: event@\^1\n(?: {4}.*\n)+/, ""));
    expect(checkDir(temp.repo, ReleaseLedger.read(temp.root), "sources/demo").map((f) => f.message)).toEqual([
      "source_service 1.0.0 imports event/v1, which is not vendored beside it",
    ]);
  });
});
