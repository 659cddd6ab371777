import { cpSync, rmSync, symlinkSync, unlinkSync } from "node:fs";
import { runBreakingCommand } from "./breaking-command";
import { formatLintFinding, type LintFinding } from "./contract-lint";
import { reportLintResult, runLintCommand } from "./lint-command";
import {
  addBillingService,
  addSourcesFamily,
  dataTypeProto,
  familyLayoutRepo,
  perServiceLayoutRepo,
  serviceProto,
} from "./test-support/fixture-repos";
import { TempRepo } from "./test-support/temp-repo";
import { runVendorCommand } from "./vendor-command";

const PREFIX = "flow.microservices";
const SERVICE = "sources/proto/source_service/v1/source.proto";

/** `file:line:col: rule` of each finding, for compact assertions. */
const where = (findings: LintFinding[]) => findings.map((f) => `${f.file}:${f.line}:${f.col}: ${f.rule}`);

describe("flow proto lint", () => {
  let temp: TempRepo;
  beforeEach(() => {
    temp = familyLayoutRepo(PREFIX);
    addSourcesFamily(temp, PREFIX);
  });
  afterEach(() => temp.remove());

  const lint = (paths: string[] = []) => runLintCommand({ root: temp.root, paths });

  it("passes on a repository that follows the conventions", () => {
    const report = lint();
    expect(report.findings).toEqual([]);
    expect(report.unparsable).toEqual([]);
    expect(report.files).toEqual([
      "proto/checkpoint/v1/checkpoint.proto",
      "proto/event/v1/event.proto",
      "sources/proto/event/v1/event.proto",
      SERVICE,
    ]);
    expect(report.roots).toEqual(["proto", "sources/proto"]);
  });

  describe("path-shape", () => {
    it("flags a file outside <name>/v<major>/ and outside any proto/ folder", () => {
      temp.write("proto/event/event.proto", dataTypeProto(PREFIX, "event"));
      temp.write("proto/event/version1/event.proto", dataTypeProto(PREFIX, "event"));
      temp.write("proto/Event/v1/Event.proto", dataTypeProto(PREFIX, "event"));
      temp.write("proto/event/v0/event.proto", dataTypeProto(PREFIX, "event"));
      temp.write("schemas/event.proto", dataTypeProto(PREFIX, "event"));
      const findings = lint().findings.filter((finding) => finding.rule === "path-shape");
      expect(findings.map((f) => `${f.file}: ${f.message}`)).toEqual([
        'proto/Event/v1/Event.proto: folder "Event" is not a contract name (lower_snake_case: a-z, 0-9, _)',
        "proto/event/event.proto: is 1 folder(s) deep below the proto root; contracts sit at <name>/v<major>/<name>.proto",
        'proto/event/v0/event.proto: folder "v0" is not a major version folder (v1, v2, ...)',
        'proto/event/version1/event.proto: folder "version1" is not a major version folder (v1, v2, ...)',
        "schemas/event.proto: is not inside a proto/ folder",
      ]);
    });

    it("leaves other protocols' files under third_party/ alone (gRPC's health.proto for a service in another language)", () => {
      temp.write(
        "examples/py/third_party/grpc/health/v1/health.proto",
        'syntax = "proto3";\npackage grpc.health.v1;\nmessage HealthCheckRequest { string service = 1; }\n',
      );
      expect(lint().findings).toEqual([]);
    });
  });

  describe("file-name", () => {
    it("accepts <name>.proto, and <family>.proto or <family>_service.proto in a service folder", () => {
      temp.git("mv", SERVICE, "sources/proto/source_service/v1/source_service.proto");
      expect(lint().findings).toEqual([]);
    });

    it("flags any other file name", () => {
      temp.git("mv", SERVICE, "sources/proto/source_service/v1/api.proto");
      expect(where(lint().findings)).toEqual(["sources/proto/source_service/v1/api.proto:1:1: file-name"]);
    });
  });

  describe("package", () => {
    it("flags a package that disagrees with the path, the major included", () => {
      temp.write(
        "proto/event/v1/event.proto",
        dataTypeProto(PREFIX, "event").replace(".event.v1;", ".event.v2;"),
      );
      temp.write("proto/checkpoint/v1/checkpoint.proto", dataTypeProto("acme", "checkpoint"));
      const findings = lint(["proto"]).findings;
      expect(findings.map(formatLintFinding)).toEqual([
        "proto/checkpoint/v1/checkpoint.proto:4:1: package: package acme.checkpoint.v1 does not agree with the path: expected flow.microservices.checkpoint.v1\n  hint: write: package flow.microservices.checkpoint.v1;",
        "proto/event/v1/event.proto:4:1: package: package flow.microservices.event.v2 does not agree with the path: expected flow.microservices.event.v1 (the major differs)\n  hint: write: package flow.microservices.event.v1;",
      ]);
    });

    it("flags a missing package statement", () => {
      temp.write("proto/event/v1/event.proto", 'syntax = "proto3";\nmessage Event {}\n');
      expect(where(lint(["proto/event"]).findings)).toEqual(["proto/event/v1/event.proto:1:1: package"]);
    });

    it("uses the prefix given with --prefix over the repository setting", () => {
      const findings = runLintCommand({ root: temp.root, prefix: "acme.platform" }).findings;
      expect(findings.filter((f) => f.rule === "package")).toHaveLength(4);
    });
  });

  describe("syntax", () => {
    it("flags proto2, a missing syntax statement and editions", () => {
      temp.write(
        "proto/event/v1/event.proto",
        dataTypeProto(PREFIX, "event")
          .replace('"proto3"', '"proto2"')
          .replace("string id", "optional string id"),
      );
      temp.write(
        "proto/checkpoint/v1/checkpoint.proto",
        dataTypeProto(PREFIX, "checkpoint").replace('syntax = "proto3";\n', ""),
      );
      expect(where(lint(["proto"]).findings)).toEqual([
        "proto/checkpoint/v1/checkpoint.proto:1:1: syntax",
        "proto/event/v1/event.proto:2:1: syntax",
      ]);
    });
  });

  describe("folder-kind", () => {
    it("flags a service in a data-type folder and a _service folder without a service", () => {
      temp.write(
        "proto/event/v1/event.proto",
        `${dataTypeProto(PREFIX, "event")}\nservice EventService {\n  rpc Get(Event) returns (Event);\n}\n`,
      );
      temp.write(
        "proto/audit_service/v1/audit.proto",
        dataTypeProto(PREFIX, "audit_service").replace("AuditService", "Audit"),
      );
      expect(where(lint(["proto"]).findings)).toEqual([
        "proto/audit_service/v1/audit.proto:1:1: service-location",
        "proto/audit_service/v1/audit.proto:1:1: folder-kind",
        "proto/event/v1/event.proto:10:1: folder-kind",
      ]);
    });
  });

  describe("imports", () => {
    it("flags any import in a shared data type", () => {
      temp.write(
        "proto/checkpoint/v1/checkpoint.proto",
        dataTypeProto(PREFIX, "checkpoint").replace(
          "\nmessage",
          '\nimport "event/v1/event.proto";\n\nmessage',
        ),
      );
      expect(where(lint(["proto"]).findings)).toEqual([
        "proto/checkpoint/v1/checkpoint.proto:6:1: data-type-import",
      ]);
    });

    it("flags unversioned paths, service imports and public imports in a service file", () => {
      temp.write("sources/proto/other_service/v1/other.proto", serviceProto(PREFIX, "other"));
      temp.commit("other service");
      const text = temp
        .read(SERVICE)
        .replace(
          'import "event/v1/event.proto";',
          'import "event/v1/event.proto";\nimport "event.proto";\nimport "other_service/v1/other.proto";\nimport public "checkpoint/v1/checkpoint.proto";',
        );
      temp.write(SERVICE, text);
      const findings = lint([SERVICE]).findings;
      expect(findings.map((f) => `${f.file}:${f.line}:${f.col}: ${f.rule}: ${f.message}`)).toEqual([
        `${SERVICE}:7:1: import-path: import "event.proto" is not a versioned shared type path <name>/v<major>/<name>.proto`,
        `${SERVICE}:8:1: import-path: import "other_service/v1/other.proto" is a service contract; a service file imports only shared data types`,
        `${SERVICE}:9:1: import-path: import public "checkpoint/v1/checkpoint.proto": contracts use plain imports`,
        `${SERVICE}:9:1: import-unresolved: import "checkpoint/v1/checkpoint.proto" does not resolve inside sources/proto/`,
      ]);
      expect(findings.at(-1)?.hint).toBe("vendor it beside the file: flow proto add sources checkpoint@^1");
    });

    it("flags an import that resolves only outside the file's proto root", () => {
      rmSync(temp.path("sources/proto/event"), { recursive: true });
      temp.git("rm", "-r", "-q", "--cached", "sources/proto/event");
      temp.write("sources/proto-pins.yaml", "pins: []\n");
      temp.write("sources/proto-pins.lock.yaml", "vendored: []\n");
      expect(where(lint().findings)).toEqual([`${SERVICE}:6:1: import-unresolved`]);
    });
  });

  describe("symlink", () => {
    it("flags a symlinked file and a symlinked proto folder", () => {
      const copy = temp.path("sources/proto/event/v1/event.proto");
      unlinkSync(copy);
      symlinkSync("../../../../proto/event/v1/event.proto", copy);
      temp.write("billing/README.md", "billing\n");
      symlinkSync("../proto", temp.path("billing/proto"));
      const findings = lint().findings;
      expect(where(findings.filter((f) => f.rule === "symlink"))).toEqual([
        "billing/proto:1:1: symlink",
        "sources/proto/event/v1/event.proto:1:1: symlink",
      ]);
      expect(findings.find((f) => f.file === "billing/proto")?.message).toBe(
        "is a symlink (to ../proto); no symlinks among contracts: vendored copies are real files made by git read-tree",
      );
      // One symlink, one finding: not again as a vendored copy that is a symlink and changed type.
      expect(where(findings)).toEqual([
        "billing/proto:1:1: symlink",
        "sources/proto/event/v1/event.proto:1:1: symlink",
      ]);
    });
  });

  describe("vendored-copy", () => {
    it("reports a copy that does not match its lock, as vendor --check does", () => {
      temp.write(
        "sources/proto/event/v1/event.proto",
        `${temp.read("sources/proto/event/v1/event.proto")}// edit\n`,
      );
      const findings = lint().findings;
      const edited = temp.read("sources/proto/event/v1/event.proto").split("\n").length;
      expect(where(findings)).toEqual([`sources/proto/event/v1/event.proto:${edited - 1}:1: vendored-copy`]);
      expect(findings[0]?.hint).toBe("npx flow proto vendor --force sources");
    });

    it("points at the first edited line and column of a vendored copy", () => {
      const file = "sources/proto/event/v1/event.proto";
      temp.write(file, temp.read(file).replace("string id = 1;", "string ident = 1;"));
      const line =
        temp
          .read(file)
          .split("\n")
          .findIndex((text) => text.includes("ident")) + 1;
      expect(where(lint().findings)).toEqual([`${file}:${line}:12: vendored-copy`]);
    });

    it("ignores gitignored files inside a vendored folder, in every check", () => {
      temp.write(".gitignore", ".DS_Store\n*.swp\n");
      temp.commit("ignore editor files");
      temp.write("sources/proto/event/v1/.DS_Store", "finder junk\n");
      temp.write("sources/proto/event/.event.proto.swp", "vim swap\n");
      expect(lint().findings).toEqual([]);
      expect(runVendorCommand({ root: temp.root, check: true }).findings).toEqual([]);
      expect(runVendorCommand({ root: temp.root }).actions.map((a) => a.action)).toEqual(["unchanged"]);
      expect(runBreakingCommand({ root: temp.root }).comparisons.every((c) => c.changes.length === 0)).toBe(
        true,
      );
    });

    it("cp -r v1 v2, the first step of a new major, blames the copy, never the untouched v1", () => {
      cpSync(temp.path("proto/event/v1"), temp.path("proto/event/v2"), { recursive: true });
      const report = lint();
      expect(report.unparsable).toEqual([]);
      expect(where(report.findings)).toEqual(["proto/event/v2/event.proto:4:1: package"]);
    });

    it('accepts syntax = "pro" "to3"; (adjacent strings are one, as protoc reads them)', () => {
      temp.write(
        "proto/event/v1/event.proto",
        temp.read("proto/event/v1/event.proto").replace('"proto3"', '"pro" "to3"'),
      );
      expect(lint().findings).toEqual([]);
      expect(lint().unparsable).toEqual([]);
    });

    it("flags a copy in a folder without pins: a copy made by hand, never verified", () => {
      rmSync(temp.path("sources/proto-pins.yaml"));
      rmSync(temp.path("sources/proto-pins.lock.yaml"));
      temp.write(
        "sources/proto/event/v1/event.proto",
        `${temp.read("sources/proto/event/v1/event.proto")}// edit\n`,
      );
      const findings = lint().findings;
      expect(where(findings)).toEqual(["sources/proto/event/v1/event.proto:1:1: hand-copy"]);
      expect(findings[0]?.message).toBe(
        "sources/proto/event/v1 is a copy of event (released from proto/event/v1) that no pin vendors (sources/proto-pins.yaml does not exist)",
      );
      expect(findings[0]?.hint).toBe(
        "vendor it instead: git rm -r -q sources/proto/event/v1 && flow proto add sources event@^1",
      );
    });
  });

  describe("what lint used to miss", () => {
    it("service-location: a service contract in the shared proto/ folder", () => {
      temp.write(
        "proto/audit_service/v1/audit.proto",
        serviceProto(PREFIX, "audit")
          .replace('import "event/v1/event.proto";\n', "")
          .replace("flow.microservices.event.v1.Event sample = 1;", "string sample = 1;"),
      );
      const findings = lint().findings;
      expect(where(findings)).toEqual(["proto/audit_service/v1/audit.proto:1:1: service-location"]);
      expect(findings[0]?.hint).toContain("audits/proto/audit_service/v1/");
    });

    it("hand-copy: an unpinned copy beside pinned ones", () => {
      temp.write(
        "sources/proto/checkpoint/v1/checkpoint.proto",
        temp.read("proto/checkpoint/v1/checkpoint.proto"),
      );
      const findings = lint().findings;
      expect(where(findings)).toEqual(["sources/proto/checkpoint/v1/checkpoint.proto:1:1: hand-copy"]);
      expect(findings[0]?.message).toContain("(not in sources/proto-pins.lock.yaml)");
    });

    it("generate-source: a build script generating from another package's protos", () => {
      temp.write(
        "sources/demo/package.json",
        `${JSON.stringify({ name: "demo", scripts: { build: "tsc", generate: "buf generate ../proto --template ../../buf.gen.yaml" } }, null, 2)}\n`,
      );
      temp.write(
        "sources/other/package.json",
        `${JSON.stringify({ name: "other", scripts: { generate: "protoc -I../../proto --ts_out=src/gen event/v1/event.proto" } }, null, 2)}\n`,
      );
      temp.write("buf.gen.yaml", "version: v2\n");
      const findings = lint().findings;
      expect(findings.map((f) => `${f.file}:${f.line}:${f.col}: ${f.rule}: ${f.message}`)).toEqual([
        'sources/demo/package.json:5:31: generate-source: script "generate" reads protos from sources/proto, outside the package',
        'sources/other/package.json:4:27: generate-source: script "generate" reads protos from proto, outside the package',
      ]);
      // Generating from the package's own proto/ with a shared template is the convention.
      temp.write(
        "sources/demo/package.json",
        JSON.stringify({
          name: "demo",
          scripts: { generate: "buf generate proto --template ../../buf.gen.yaml" },
        }),
      );
      temp.write("sources/other/package.json", JSON.stringify({ name: "other" }));
      expect(lint().findings).toEqual([]);
    });
  });

  describe("input that cannot be used", () => {
    it("reports a file that does not tokenize, with the position", () => {
      temp.write(
        "proto/event/v1/event.proto",
        'syntax = "proto3";\npackage flow.microservices.event.v1;\nmessage Event { string id = "1; }\n',
      );
      const report = lint();
      expect(report.unparsable.map(formatLintFinding)).toEqual([
        "proto/event/v1/event.proto:3:29: parse: unterminated string\n  hint: fix the protobuf syntax; the file cannot be used as it is",
      ]);
    });

    it("reports what the compiler rejects inside a block, with buf's message and position", () => {
      temp.write("proto/event/v1/event.proto", dataTypeProto(PREFIX, "event", "  string id = 1\n"));
      expect(where(lint().unparsable)).toEqual(["proto/event/v1/event.proto:8:1: parse"]);
      expect(lint().unparsable[0]?.message).toMatch(/}/);
    });

    it("reports an unknown type", () => {
      temp.write("proto/event/v1/event.proto", dataTypeProto(PREFIX, "event", "  Missing id = 1;\n"));
      expect(where(lint().unparsable)).toEqual(["proto/event/v1/event.proto:7:3: parse"]);
    });

    it("a folder that does not exist, a folder outside any repository", () => {
      expect(() => lint(["nothing/here"])).toThrow("nothing/here: no such file or folder");
      const outside = TempRepo.create();
      rmSync(outside.path(".git"), { recursive: true });
      try {
        expect(() => runLintCommand({ root: outside.root })).toThrow(/is not inside a git repository/);
      } finally {
        outside.remove();
      }
      expect(() => runLintCommand({ root: temp.path("missing") })).toThrow(/missing: no such folder/);
    });

    it("a prefix that is not a protobuf package", () => {
      expect(() => runLintCommand({ root: temp.root, prefix: "Acme-Corp" })).toThrow(
        '--prefix: prefix "Acme-Corp" is not a valid protobuf package',
      );
      temp.write("flow.proto.yaml", "prefix: 9lives\n");
      expect(() => runLintCommand({ root: temp.root })).toThrow(
        'flow.proto.yaml: prefix "9lives" is not a valid protobuf package',
      );
    });
  });

  describe("exit codes and output", () => {
    let errors: string[];
    let spy: jest.SpyInstance;
    beforeEach(() => {
      errors = [];
      spy = jest.spyOn(console, "error").mockImplementation((line: string) => errors.push(line));
      jest.spyOn(console, "log").mockImplementation(() => undefined);
    });
    afterEach(() => jest.restoreAllMocks());

    it("0 when clean, 1 on findings, 2 when a file does not parse", () => {
      expect(reportLintResult(lint())).toBe(0);
      temp.write("proto/event/v1/event.proto", dataTypeProto("acme", "event"));
      expect(reportLintResult(lint())).toBe(1);
      expect(errors[0]).toMatch(/^proto\/event\/v1\/event\.proto:4:1: package: package acme\.event\.v1 /);
      expect(errors[0]).toMatch(/\n {2}hint: write: package flow\.microservices\.event\.v1;$/);
      temp.write("proto/event/v1/event.proto", "message {");
      expect(reportLintResult(lint())).toBe(2);
      expect(spy).toHaveBeenCalled();
    });
  });
});

describe("flow proto lint on a one-service-per-folder repository with another prefix", () => {
  let temp: TempRepo;
  beforeEach(() => {
    temp = perServiceLayoutRepo("acme.platform");
    addBillingService(temp, "acme.platform");
  });
  afterEach(() => temp.remove());

  it("passes with the prefix from the repository's flow.proto.yaml", () => {
    const report = runLintCommand({ root: temp.root });
    expect(report.findings).toEqual([]);
    expect(report.unparsable).toEqual([]);
    expect(report.roots).toEqual(["billing/proto", "proto"]);
  });

  it("flags every package when told another prefix", () => {
    const report = runLintCommand({ root: temp.root, prefix: PREFIX });
    expect(where(report.findings)).toEqual([
      "billing/proto/billing_service/v1/billing.proto:4:1: package",
      "billing/proto/order/v1/order.proto:4:1: package",
      "proto/order/v1/order.proto:4:1: package",
    ]);
  });

  it("lints only the paths given, relative to the working folder", () => {
    temp.write("proto/order/v1/order.proto", dataTypeProto("wrong", "order"));
    expect(runLintCommand({ cwd: temp.path("billing"), paths: ["."] }).findings).toEqual([]);
    expect(where(runLintCommand({ cwd: temp.path("proto"), paths: ["order"] }).findings)).toEqual([
      "proto/order/v1/order.proto:4:1: package",
    ]);
  });
});
