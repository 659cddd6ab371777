import { rmSync, symlinkSync, unlinkSync } from "node:fs";
import { UserError } from "@flow/errors";
import { readLock, writeLock } from "./pin-lock";
import { ReleaseLedger } from "./release-ledger";
import {
  dataTypeProto,
  familyLayoutRepo,
  manifestYaml,
  perServiceLayoutRepo,
  release,
} from "./test-support/fixture-repos";
import { TempRepo } from "./test-support/temp-repo";
import { runVendorCommand } from "./vendor-command";
import { checkDir, vendorDir } from "./vendoring";
import { worktreeTreeId } from "./worktree-tree";

const PREFIX = "flow.microservices";

describe("vendoring with git read-tree", () => {
  let temp: TempRepo;
  let eventTree: string;

  beforeEach(() => {
    temp = familyLayoutRepo(PREFIX);
    temp.write("sources/demo/proto-pins.yaml", manifestYaml(["event@^1"]));
    eventTree = temp.git("rev-parse", "HEAD:proto/event/v1");
  });
  afterEach(() => temp.remove());

  const vendor = (options: Parameters<typeof runVendorCommand>[0] = {}) =>
    runVendorCommand({ root: temp.root, dirs: ["sources/demo"], ...options });
  const check = () => checkDir(temp.repo, ReleaseLedger.read(temp.root), "sources/demo");

  it("vendors the released tree exactly and locks its commit and tree id", () => {
    const result = vendor();

    expect(result.actions).toEqual([
      expect.objectContaining({ action: "vendored", version: "1.0.0", path: "sources/demo/proto/event/v1" }),
    ]);
    expect(temp.read("sources/demo/proto/event/v1/event.proto")).toBe(
      temp.read("proto/event/v1/event.proto"),
    );
    // read-tree stages the copy: its tree in the index is the released tree.
    expect(temp.git("write-tree", "--prefix=sources/demo/proto/event/v1/")).toBe(eventTree);
    const lock = readLock(temp.root, "sources/demo") ?? [];
    expect(lock).toEqual([
      {
        pin: "event@^1",
        name: "event",
        version: "1.0.0",
        source: "proto/event/v1",
        commit: ReleaseLedger.read(temp.root).find("event", "1.0.0")?.commit,
        tree: eventTree,
        path: "proto/event/v1",
      },
    ]);
    expect(check()).toEqual([]);
  });

  it("a second vendor run changes nothing", () => {
    vendor();
    expect(vendor().actions.map((action) => action.action)).toEqual(["unchanged"]);
  });

  it("re-vendors to a new release over an existing copy (read-tree alone refuses the prefix)", () => {
    vendor();
    temp.commit("vendor event 1.0.0");
    temp.write(
      "proto/event/v1/event.proto",
      dataTypeProto(PREFIX, "event", "  string id = 1;\n  string kind = 2;\n"),
    );
    temp.commit("event: add kind");
    release(temp, "event", "1.1.0", "proto/event/v1");

    // Without --upgrade the locked version still satisfies ^1 and stays.
    expect(vendor().actions.map((action) => action.action)).toEqual(["unchanged"]);

    const result = vendor({ upgrade: true });
    expect(result.actions).toEqual([
      expect.objectContaining({ action: "replaced", from: "1.0.0", version: "1.1.0" }),
    ]);
    expect(temp.read("sources/demo/proto/event/v1/event.proto")).toContain("string kind = 2;");
    const newTree = temp.git("rev-parse", "HEAD:proto/event/v1");
    expect(readLock(temp.root, "sources/demo")?.[0]).toEqual(
      expect.objectContaining({ version: "1.1.0", tree: newTree }),
    );
    expect(temp.git("write-tree", "--prefix=sources/demo/proto/event/v1/")).toBe(newTree);
    expect(check()).toEqual([]);
  });

  it("vendors a second major beside the first when both are pinned, and removes an unpinned copy", () => {
    temp.write(
      "proto/event/v2/event.proto",
      dataTypeProto(PREFIX, "event", "  bytes id = 1;\n").replace(".v1;", ".v2;"),
    );
    temp.commit("event v2");
    release(temp, "event", "2.0.0", "proto/event/v2");
    temp.write("sources/demo/proto-pins.yaml", manifestYaml(["event@^1", "event@^2"]));

    vendor();
    expect(temp.read("sources/demo/proto/event/v1/event.proto")).toContain(".v1;");
    expect(temp.read("sources/demo/proto/event/v2/event.proto")).toContain(".v2;");
    expect(check()).toEqual([]);

    temp.write("sources/demo/proto-pins.yaml", manifestYaml(["event@^2"]));
    const result = vendor();
    expect(result.actions).toContainEqual(
      expect.objectContaining({ action: "removed", path: "sources/demo/proto/event/v1" }),
    );
    expect(() => temp.read("sources/demo/proto/event/v1/event.proto")).toThrow();
    expect(check()).toEqual([]);
  });

  it("--check names a hand-edited file, the expected and found tree and the fix", () => {
    vendor();
    temp.write(
      "sources/demo/proto/event/v1/event.proto",
      `${temp.read("proto/event/v1/event.proto")}// edited\n`,
    );

    const findings = runVendorCommand({ root: temp.root, check: true }).findings;

    expect(findings).toHaveLength(1);
    expect(findings[0]?.file).toBe("sources/demo/proto/event/v1/event.proto");
    expect(findings[0]?.message).toMatch(/^edited in the vendored copy of event 1\.0\.0/);
    expect(findings[0]?.message).toContain(`expected tree ${eventTree}`);
    expect(findings[0]?.message).toContain(
      `found ${worktreeTreeId(temp.repo, "sources/demo/proto/event/v1")}`,
    );
    expect(findings[0]?.fix).toBe("npx flow proto vendor --force sources/demo");
  });

  it("refuses to overwrite an edited copy unless forced, and --force repairs it", () => {
    vendor();
    temp.write("sources/demo/proto/event/v1/event.proto", "// edited by hand\n");
    // The build's vendor step stops on the edit even when the version stays the same.
    expect(() => vendor()).toThrow(/sources\/demo\/proto\/event\/v1: the vendored copy was edited/);
    temp.write(
      "proto/event/v1/event.proto",
      dataTypeProto(PREFIX, "event", "  string id = 1;\n  int64 at = 2;\n"),
    );
    temp.commit("event: add at");
    release(temp, "event", "1.1.0", "proto/event/v1");

    expect(() => vendor({ upgrade: true })).toThrow(
      /sources\/demo\/proto\/event\/v1: the vendored copy was edited/,
    );
    vendor({ upgrade: true, force: true });
    expect(check()).toEqual([]);
  });

  it("--check finds an added file: a copy not made by read-tree", () => {
    vendor();
    temp.write("sources/demo/proto/event/v1/extra.proto", 'syntax = "proto3";\n');
    expect(check()).toEqual([
      expect.objectContaining({
        file: "sources/demo/proto/event/v1/extra.proto",
        message: expect.stringMatching(/^added in the vendored copy/),
      }),
    ]);
  });

  it("--check finds a symlinked file", () => {
    vendor();
    const copy = temp.path("sources/demo/proto/event/v1/event.proto");
    unlinkSync(copy);
    symlinkSync(temp.path("proto/event/v1/event.proto"), copy);

    const findings = check();
    expect(findings).toContainEqual(
      expect.objectContaining({
        file: "sources/demo/proto/event/v1/event.proto",
        message: expect.stringMatching(/symlink/),
      }),
    );
  });

  it("--check finds a symlinked folder in place of the copy", () => {
    vendor();
    rmSync(temp.path("sources/demo/proto/event"), { recursive: true });
    symlinkSync(temp.path("proto/event"), temp.path("sources/demo/proto/event"));

    const findings = check();
    expect(findings).toEqual([
      expect.objectContaining({
        file: "sources/demo/proto/event",
        message: expect.stringMatching(/is a symlink/),
      }),
    ]);

    // Repairing replaces the link itself and leaves what it pointed to alone.
    vendor({ force: true });
    expect(check()).toEqual([]);
    expect(temp.read("proto/event/v1/event.proto")).toContain("package flow.microservices.event.v1;");
    expect(temp.git("status", "--porcelain", "--", "proto")).toBe("");
  });

  it("--check finds a pin that was never vendored", () => {
    vendor();
    temp.write("sources/demo/proto-pins.yaml", manifestYaml(["event@^1", "checkpoint@^1"]));
    expect(check()).toEqual([
      expect.objectContaining({
        file: "sources/demo/proto-pins.yaml",
        message: 'pin "checkpoint@^1" has no lock entry (not vendored)',
      }),
    ]);
  });

  it("--check finds a lock entry naming an unknown release", () => {
    vendor();
    const lock = readLock(temp.root, "sources/demo") ?? [];
    writeLock(
      temp.root,
      "sources/demo",
      lock.map((entry) => ({ ...entry, version: "1.9.0" })),
    );
    expect(check()).toEqual([
      expect.objectContaining({
        file: "sources/demo/proto-pins.lock.yaml",
        message: "event 1.9.0 is not a known release (not in the release ledger)",
      }),
    ]);
  });

  it("refuses to vendor a range no release matches, and an unknown contract", () => {
    temp.write("sources/demo/proto-pins.yaml", manifestYaml(["event@^3"]));
    expect(() => vendor()).toThrow(UserError);
    expect(() => vendor()).toThrow('sources/demo/proto-pins.yaml: no release of event matches "^3"');
    temp.write("sources/demo/proto-pins.yaml", manifestYaml(["nothing@^1"]));
    expect(() => vendor()).toThrow('no contract named "nothing" has been released');
  });

  it("--check finds a lock edited to match an edited copy", () => {
    vendor();
    temp.write("sources/demo/proto/event/v1/event.proto", "// edited by hand\n");
    const editedTree = worktreeTreeId(temp.repo, "sources/demo/proto/event/v1") ?? "";
    const lock = readLock(temp.root, "sources/demo") ?? [];
    writeLock(
      temp.root,
      "sources/demo",
      lock.map((entry) => ({ ...entry, tree: editedTree })),
    );

    expect(check()).toEqual([
      expect.objectContaining({
        file: "sources/demo/proto-pins.lock.yaml",
        message: `event 1.0.0: lock says tree ${editedTree}, the release is tree ${eventTree}`,
      }),
    ]);
  });

  it("--check finds a ledger edited to match an edited copy", () => {
    vendor();
    temp.write("sources/demo/proto/event/v1/event.proto", "// edited by hand\n");
    const editedTree = worktreeTreeId(temp.repo, "sources/demo/proto/event/v1") ?? "";
    temp.write("proto-releases.yaml", temp.read("proto-releases.yaml").split(eventTree).join(editedTree));
    const lock = readLock(temp.root, "sources/demo") ?? [];
    writeLock(
      temp.root,
      "sources/demo",
      lock.map((entry) => ({ ...entry, tree: editedTree })),
    );

    // Blamed once, on the ledger's line, by the command (not by each folder's check).
    expect(vendor({ check: true }).findings).toEqual([
      expect.objectContaining({
        file: "proto-releases.yaml",
        line: expect.any(Number),
        message: expect.stringContaining(`the ledger says ${editedTree}`),
      }),
    ]);
  });

  it("--check finds a deleted copy", () => {
    vendor();
    rmSync(temp.path("sources/demo/proto"), { recursive: true });
    expect(check()).toEqual([
      expect.objectContaining({
        file: "sources/demo/proto/event/v1",
        message: "missing: event 1.0.0 is locked but not vendored",
      }),
    ]);
  });

  it("a clone without tags verifies and re-vendors from the ledger alone", () => {
    vendor();
    temp.commit("vendor event");
    const clone = TempRepo.clone(temp, { noTags: true });
    try {
      expect(clone.tags()).toEqual([]);
      expect(runVendorCommand({ root: clone.root, check: true }).findings).toEqual([]);

      rmSync(clone.path("sources/demo/proto"), { recursive: true });
      clone.git("rm", "-r", "-q", "--cached", "sources/demo/proto");
      runVendorCommand({ root: clone.root });
      expect(runVendorCommand({ root: clone.root, check: true }).findings).toEqual([]);
      expect(clone.read("sources/demo/proto/event/v1/event.proto")).toBe(
        clone.read("proto/event/v1/event.proto"),
      );
    } finally {
      clone.remove();
    }
  });

  it("works from a sub-folder of the repository and with folder arguments relative to it", () => {
    const result = runVendorCommand({ cwd: temp.path("sources"), dirs: ["demo"] });
    expect(result.dirs).toEqual(["sources/demo"]);
    expect(check()).toEqual([]);
  });

  it("refuses a folder without a manifest, and a folder outside the repository", () => {
    expect(() => runVendorCommand({ root: temp.root, dirs: ["proto"] })).toThrow(
      "proto: no proto-pins.yaml there",
    );
    expect(() => runVendorCommand({ root: temp.root, dirs: ["../elsewhere"] })).toThrow(
      /is outside the repository/,
    );
  });
});

describe("vendoring in a one-service-per-folder repository with another prefix", () => {
  let temp: TempRepo;
  beforeEach(() => {
    temp = perServiceLayoutRepo("acme.platform");
  });
  afterEach(() => temp.remove());

  it("vendors into <svc>/proto and verifies", () => {
    temp.write("billing/proto-pins.yaml", manifestYaml(["order@v1"]));
    const ledger = ReleaseLedger.read(temp.root);
    const actions = vendorDir(temp.repo, ledger, "billing");
    expect(actions).toEqual([
      expect.objectContaining({ action: "vendored", path: "billing/proto/order/v1" }),
    ]);
    expect(temp.read("billing/proto/order/v1/order.proto")).toContain("package acme.platform.order.v1;");
    expect(checkDir(temp.repo, ledger, "billing")).toEqual([]);
  });

  it("says so when the folder is not in a git repository", () => {
    const outside = TempRepo.create();
    rmSync(outside.path(".git"), { recursive: true });
    try {
      expect(() => runVendorCommand({ root: outside.root })).toThrow(/is not inside a git repository/);
    } finally {
      outside.remove();
    }
  });
});
