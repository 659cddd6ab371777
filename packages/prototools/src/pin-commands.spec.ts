import { existsSync } from "node:fs";
import { packageManagerOf } from "./package-generate";
import { formatPinCommandResult, runAddCommand, runUpgradeCommand } from "./pin-commands";
import { readLock } from "./pin-lock";
import { readManifest } from "./pin-manifest";
import { runReleaseCommand } from "./release-command";
import {
  dataTypeProto,
  familyLayoutRepo,
  manifestYaml,
  perServiceLayoutRepo,
} from "./test-support/fixture-repos";
import { TempRepo } from "./test-support/temp-repo";
import { runVendorCommand } from "./vendor-command";

const PREFIX = "flow.microservices";
const EVENT = "proto/event/v1/event.proto";

// A generate script that records which event contract it saw, like ts-proto would from proto/.
const PACKAGE_JSON = JSON.stringify({
  name: "demo",
  private: true,
  scripts: {
    generate:
      "node -e \"const fs=require('fs');fs.mkdirSync('src/gen',{recursive:true});fs.writeFileSync('src/gen/event.txt',fs.readFileSync('proto/event/v1/event.proto'))\"",
  },
});

describe("flow proto add and upgrade", () => {
  let temp: TempRepo;
  beforeEach(() => {
    temp = familyLayoutRepo(PREFIX);
    temp.write("sources/demo/package.json", PACKAGE_JSON);
    temp.commit("demo package");
  });
  afterEach(() => temp.remove());

  const releaseEventWith = (body: string, kind: "minor" | "major", path = EVENT) => {
    temp.write(path, body);
    temp.commit(`event ${kind}`);
    runReleaseCommand({ root: temp.root, contract: "event", kind });
    temp.commit("ledger");
  };

  it("add: creates the manifest, vendors, locks and regenerates", () => {
    const result = runAddCommand({ root: temp.root, dir: "sources/demo", spec: "event@^1" });

    expect(readManifest(temp.root, "sources/demo").pins.map((pin) => pin.spec)).toEqual(["event@^1"]);
    expect(readLock(temp.root, "sources/demo")?.map((entry) => `${entry.name} ${entry.version}`)).toEqual([
      "event 1.0.0",
    ]);
    expect(temp.read("sources/demo/proto/event/v1/event.proto")).toBe(temp.read(EVENT));
    expect(temp.read("sources/demo/src/gen/event.txt")).toBe(temp.read(EVENT));
    expect(formatPinCommandResult(result)).toEqual([
      "pinned    event@^1 in sources/demo/proto-pins.yaml",
      "vendored  sources/demo/proto/event/v1 (event@^1: 1.0.0)",
      "generated sources/demo (npm run generate)",
    ]);
    expect(runVendorCommand({ root: temp.root, check: true }).findings).toEqual([]);
  });

  it("add: refuses a range with no release and an unknown contract, touching nothing", () => {
    expect(() => runAddCommand({ root: temp.root, dir: "sources/demo", spec: "event@^4" })).toThrow(
      'sources/demo/proto-pins.yaml: no release of event matches "^4"',
    );
    expect(() => runAddCommand({ root: temp.root, dir: "sources/demo", spec: "order@^1" })).toThrow(
      'no contract named "order" has been released',
    );
    expect(() => runAddCommand({ root: temp.root, dir: "sources/demo", spec: "event" })).toThrow(
      /is not of the form <name>@<range>/,
    );
    expect(() => runAddCommand({ root: temp.root, dir: "nowhere", spec: "event@^1" })).toThrow(
      "nowhere: no such file or folder",
    );
    expect(existsSync(temp.path("sources/demo/proto-pins.yaml"))).toBe(false);
  });

  it("add: a second major goes beside the first; the same major replaces the range", () => {
    runAddCommand({ root: temp.root, dir: "sources/demo", spec: "event@^1", generate: false });
    releaseEventWith(
      dataTypeProto(PREFIX, "event", "  bytes id = 1;\n").replace(".v1;", ".v2;"),
      "major",
      "proto/event/v2/event.proto",
    );

    runAddCommand({ root: temp.root, dir: "sources/demo", spec: "event@^2", generate: false });
    expect(temp.read("sources/demo/proto/event/v1/event.proto")).toContain(".v1;");
    expect(temp.read("sources/demo/proto/event/v2/event.proto")).toContain(".v2;");

    const result = runAddCommand({ root: temp.root, dir: "sources/demo", spec: "event@v2", generate: false });
    expect(result.pinChange).toEqual({ dir: "sources/demo", from: "event@^2", to: "event@v2" });
    expect(readManifest(temp.root, "sources/demo").pins.map((pin) => pin.spec)).toEqual([
      "event@^1",
      "event@v2",
    ]);
    expect(runVendorCommand({ root: temp.root, check: true }).findings).toEqual([]);
  });

  it("upgrade: moves a pin to the highest release its range admits, and regenerates", () => {
    runAddCommand({ root: temp.root, dir: "sources/demo", spec: "event@^1" });
    temp.commit("pin event");
    releaseEventWith(dataTypeProto(PREFIX, "event", "  string id = 1;\n  string kind = 2;\n"), "minor");

    // A plain vendor keeps the locked version...
    expect(runVendorCommand({ root: temp.root }).actions.map((a) => a.action)).toEqual(["unchanged"]);
    // ...upgrade moves it.
    const result = runUpgradeCommand({ root: temp.root, target: "sources/demo" });
    expect(formatPinCommandResult(result)).toEqual([
      "replaced  sources/demo/proto/event/v1 (event@^1: 1.0.0 -> 1.1.0)",
      "generated sources/demo (npm run generate)",
    ]);
    expect(temp.read("sources/demo/src/gen/event.txt")).toContain("string kind = 2;");
    expect(runVendorCommand({ root: temp.root, check: true }).findings).toEqual([]);

    // Nothing newer: nothing replaced, nothing regenerated.
    expect(formatPinCommandResult(runUpgradeCommand({ root: temp.root }))).toEqual([
      "unchanged sources/demo/proto/event/v1 (event@^1: 1.1.0)",
    ]);
  });

  it("upgrade <name>: only that contract, in every folder that pins it", () => {
    temp.write("sources/proto-pins.yaml", manifestYaml(["event@^1", "checkpoint@^1"]));
    temp.write("sources/demo/proto-pins.yaml", manifestYaml(["event@~1.0"]));
    runVendorCommand({ root: temp.root });
    temp.commit("pins");
    releaseEventWith(dataTypeProto(PREFIX, "event", "  string id = 1;\n  string kind = 2;\n"), "minor");

    const result = runUpgradeCommand({ root: temp.root, target: "event", generate: false });
    expect(result.actions.map((a) => `${a.path} ${a.action} ${a.version}`)).toEqual([
      "sources/proto/event/v1 replaced 1.1.0",
      "sources/proto/checkpoint/v1 unchanged 1.0.0",
      "sources/demo/proto/event/v1 unchanged 1.0.0", // ~1.0 admits no 1.1.0
    ]);
    expect(() => runUpgradeCommand({ root: temp.root, target: "sources", name: "component" })).toThrow(
      'no contract named "component" has been released',
    );
    expect(() => runUpgradeCommand({ root: temp.root, target: "proto" })).toThrow(
      "proto: no proto-pins.yaml there",
    );
    expect(() => runUpgradeCommand({ root: temp.root, target: "sideways" })).toThrow(
      '"sideways" is neither a folder with a proto-pins.yaml nor a released contract',
    );
  });

  it("upgrade refuses to overwrite an edited copy unless forced", () => {
    runAddCommand({ root: temp.root, dir: "sources/demo", spec: "event@^1", generate: false });
    temp.commit("pin");
    releaseEventWith(dataTypeProto(PREFIX, "event", "  string id = 1;\n  string kind = 2;\n"), "minor");
    temp.write("sources/demo/proto/event/v1/event.proto", "// edited\n");
    expect(() => runUpgradeCommand({ root: temp.root, generate: false })).toThrow(
      /the vendored copy was edited/,
    );
    runUpgradeCommand({ root: temp.root, generate: false, force: true });
    expect(runVendorCommand({ root: temp.root, check: true }).findings).toEqual([]);
  });

  it("reports a failing generator as one clear error, after vendoring", () => {
    temp.write(
      "sources/demo/package.json",
      JSON.stringify({ name: "demo", scripts: { generate: 'node -e "process.exit(3)"' } }),
    );
    expect(() => runAddCommand({ root: temp.root, dir: "sources/demo", spec: "event@^1" })).toThrow(
      /^sources\/demo: "npm run generate" failed \(exit 3\)/,
    );
    expect(readLock(temp.root, "sources/demo")).toHaveLength(1);
  });
});

describe("pins in a one-service-per-folder repository with another prefix", () => {
  it("adds and upgrades a pin of billing/ with ranges ^1, ~1.2, 1.2.1 and v1", () => {
    const temp = perServiceLayoutRepo("acme.platform");
    try {
      for (const [field, version] of [
        ["a", "1.1.0"],
        ["b", "1.2.0"],
        ["c", "1.2.1"],
        ["d", "1.3.0"],
      ] as const) {
        // A patch changes no schema (a comment); the minors add a field each.
        const text = temp.read("proto/order/v1/order.proto");
        temp.write(
          "proto/order/v1/order.proto",
          version === "1.2.1"
            ? `// ${field}: documented.\n${text}`
            : text.replace(/}\n$/, `  string ${field} = ${field.charCodeAt(0) - 90};\n}\n`),
        );
        temp.commit(`order: ${field}`);
        expect(
          runReleaseCommand({
            root: temp.root,
            contract: "order",
            kind: version === "1.2.1" ? "patch" : "minor",
          }).release.version,
        ).toBe(version);
        temp.commit("ledger");
      }
      temp.write("billing/README.md", "billing\n");
      const resolved = (spec: string) =>
        runAddCommand({ root: temp.root, dir: "billing", spec, generate: false }).actions[0]?.version;
      expect(resolved("order@1.2.1")).toBe("1.2.1");
      expect(resolved("order@~1.2")).toBe("1.2.1");
      expect(resolved("order@^1")).toBe("1.3.0");
      expect(resolved("order@v1")).toBe("1.3.0");
      expect(resolved("order@1.1.0")).toBe("1.1.0");
      expect(temp.read("billing/proto/order/v1/order.proto")).toContain("package acme.platform.order.v1;");
      expect(
        runUpgradeCommand({ root: temp.root, target: "billing", name: "order", generate: false }).actions[0]
          ?.version,
      ).toBe("1.1.0");
    } finally {
      temp.remove();
    }
  });

  it("detects the package manager from the root package.json or lock file", () => {
    const temp = TempRepo.create();
    try {
      expect(packageManagerOf(temp.root)).toBe("npm");
      temp.write("pnpm-lock.yaml", "lockfileVersion: '9.0'\n");
      expect(packageManagerOf(temp.root)).toBe("pnpm");
      temp.write("package.json", JSON.stringify({ packageManager: "yarn@4.0.0" }));
      expect(packageManagerOf(temp.root)).toBe("yarn");
    } finally {
      temp.remove();
    }
  });
});
