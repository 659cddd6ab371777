import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type BreakingChange, checkBreaking } from "./breaking-check";
import { reportBreakingResult, runBreakingCommand } from "./breaking-command";
import { ReleaseLedger } from "./release-ledger";
import {
  addBillingService,
  dataTypeProto,
  manifestYaml,
  perServiceLayoutRepo,
  release,
} from "./test-support/fixture-repos";
import { TempRepo } from "./test-support/temp-repo";
import { vendorDir } from "./vendoring";

// The real contracts of this repository, copied into a throwaway repository.
const REPO = join(__dirname, "../../..");
const real = (path: string) => readFileSync(join(REPO, path), "utf8");
const SOURCE = "sources/proto/source_service/v1/source.proto";
const COMPONENT = "proto/component/v1/component.proto";

/** Replaces `from` with `to` in `text`, failing loudly when `from` is not there (no silent no-op edits). */
function edit(text: string, from: string | RegExp, to: string): string {
  const changed = text.replace(from, to);
  if (changed === text) throw new Error(`catalog edit did not apply: ${from}`);
  return changed;
}

interface CatalogCase {
  kind: string;
  file: typeof SOURCE | typeof COMPONENT;
  change: (text: string) => string;
  /** For breaking cases: a buf rule that must be among the findings. */
  rule?: string;
}

const BREAKING: CatalogCase[] = [
  {
    kind: "delete a field",
    file: SOURCE,
    rule: "FIELD_NO_DELETE",
    change: (t) => edit(t, /\n {2}bool validate_only = 2;/, ""),
  },
  {
    kind: "renumber a field",
    file: SOURCE,
    rule: "FIELD_NO_DELETE",
    change: (t) => edit(t, "uint32 linger_ms = 5;", "uint32 linger_ms = 17;"),
  },
  {
    kind: "change a scalar type",
    file: SOURCE,
    rule: "FIELD_SAME_TYPE",
    change: (t) => edit(t, "uint32 initial_credits = 3;", "uint64 initial_credits = 3;"),
  },
  {
    kind: "change a message type",
    file: SOURCE,
    rule: "FIELD_SAME_TYPE",
    change: (t) =>
      edit(
        t,
        "flow.microservices.event.v1.EventBatch batch = 2;",
        "flow.microservices.event.v1.Event batch = 2;",
      ),
  },
  {
    kind: "singular to repeated",
    file: SOURCE,
    rule: "FIELD_SAME_CARDINALITY",
    change: (t) => edit(t, "  uint32 batches = 1;", "  repeated uint32 batches = 1;"),
  },
  {
    kind: "rename a field",
    file: SOURCE,
    rule: "FIELD_SAME_NAME",
    change: (t) => edit(t, "uint64 last_sequence = 1;", "uint64 final_sequence = 1;"),
  },
  {
    kind: "change a JSON name",
    file: SOURCE,
    rule: "FIELD_SAME_JSON_NAME",
    change: (t) =>
      edit(t, "uint32 max_batch_size = 4;", 'uint32 max_batch_size = 4 [json_name = "maxBatch"];'),
  },
  {
    kind: "move a field into a oneof",
    file: SOURCE,
    rule: "FIELD_SAME_ONEOF",
    change: (t) =>
      edit(
        t,
        /message CreditGrant \{\n(.*\n)*? {2}uint32 batches = 1;\n\}/,
        "message CreditGrant {\n  oneof grant {\n    uint32 batches = 1;\n  }\n}",
      ),
  },
  {
    kind: "remove a message",
    file: SOURCE,
    rule: "MESSAGE_NO_DELETE",
    change: (t) =>
      edit(
        edit(t, /\n\s*\/\/ The source has nothing more.*\n\s*Exhausted exhausted = 2;/, ""),
        /message Exhausted \{[^}]*\}\n/,
        "",
      ),
  },
  {
    kind: "rename a message",
    file: SOURCE,
    rule: "MESSAGE_NO_DELETE",
    change: (t) =>
      edit(
        edit(t, "message CreditGrant {", "message Credits {"),
        "CreditGrant credit = 2;",
        "Credits credit = 2;",
      ),
  },
  {
    kind: "remove an enum value",
    file: COMPONENT,
    rule: "ENUM_VALUE_NO_DELETE",
    change: (t) => edit(t, /\n\s*\/\/ Events keep their total order\.\n\s*ORDERING_TOTAL = 3;/, ""),
  },
  {
    kind: "rename an enum value",
    file: COMPONENT,
    rule: "ENUM_VALUE_SAME_NAME",
    change: (t) => edit(t, "SEVERITY_WARNING = 2;", "SEVERITY_WARN = 2;"),
  },
  {
    kind: "remove an enum",
    file: COMPONENT,
    rule: "ENUM_NO_DELETE",
    change: (t) =>
      edit(
        edit(t, /\/\/ Severity of a configuration issue\.\nenum Severity \{[^}]*\}\n/, ""),
        "  Severity severity = 3;\n",
        "",
      ),
  },
  {
    kind: "remove an rpc",
    file: SOURCE,
    rule: "RPC_NO_DELETE",
    change: (t) => edit(t, /\n.*\n {2}rpc Configure\(ConfigureRequest\) returns \(ConfigureResponse\);/, ""),
  },
  {
    kind: "rename an rpc",
    file: SOURCE,
    rule: "RPC_NO_DELETE",
    change: (t) => edit(t, "rpc Describe(", "rpc DescribeSource("),
  },
  {
    kind: "change a request type",
    file: SOURCE,
    rule: "RPC_SAME_REQUEST_TYPE",
    change: (t) => edit(t, "rpc Configure(ConfigureRequest)", "rpc Configure(DescribeRequest)"),
  },
  {
    kind: "change a response type",
    file: SOURCE,
    rule: "RPC_SAME_RESPONSE_TYPE",
    change: (t) => edit(t, "returns (ConfigureResponse)", "returns (DescribeResponse)"),
  },
  {
    kind: "drop client streaming",
    file: SOURCE,
    rule: "RPC_SAME_CLIENT_STREAMING",
    change: (t) => edit(t, "rpc Read(stream ReadRequest)", "rpc Read(ReadRequest)"),
  },
  {
    kind: "add server streaming",
    file: SOURCE,
    rule: "RPC_SAME_SERVER_STREAMING",
    change: (t) => edit(t, "returns (DescribeResponse);", "returns (stream DescribeResponse);"),
  },
  {
    kind: "rename the service",
    file: SOURCE,
    rule: "SERVICE_NO_DELETE",
    change: (t) => edit(t, "service SourceService {", "service Source {"),
  },
  {
    kind: "change the package",
    file: SOURCE,
    rule: "FILE_SAME_PACKAGE",
    change: (t) =>
      edit(t, "package flow.microservices.source_service.v1;", "package flow.microservices.sources.v1;"),
  },
  {
    kind: "reuse a reserved number",
    file: SOURCE,
    rule: "RESERVED_MESSAGE_NO_DELETE",
    change: (t) => edit(t, "  reserved 15;\n", "  uint32 priority = 15;\n"),
  },
  {
    kind: "reuse a reserved name",
    file: SOURCE,
    rule: "RESERVED_MESSAGE_NO_DELETE",
    change: (t) => edit(t, '  reserved "legacy_offset";\n', "  string legacy_offset = 16;\n"),
  },
  {
    kind: "renumber an enum value",
    file: COMPONENT,
    rule: "ENUM_VALUE_NO_DELETE",
    change: (t) => edit(t, "FAMILY_CONSUMER = 3;", "FAMILY_CONSUMER = 4;"),
  },
];

const COMPATIBLE: CatalogCase[] = [
  {
    kind: "add a field",
    file: SOURCE,
    change: (t) => edit(t, "  string stage_id = 6;\n", "  string stage_id = 6;\n  string trace_id = 99;\n"),
  },
  {
    kind: "add an rpc",
    file: SOURCE,
    change: (t) => {
      const withRpc = edit(
        t,
        "service SourceService {\n",
        "service SourceService {\n  rpc Ping(PingRequest) returns (PingResponse);\n",
      );
      return `${withRpc}\nmessage PingRequest {}\n\nmessage PingResponse {}\n`;
    },
  },
  {
    kind: "add a streaming rpc",
    file: SOURCE,
    change: (t) =>
      edit(
        t,
        "service SourceService {\n",
        "service SourceService {\n  rpc Watch(DescribeRequest) returns (stream DescribeResponse);\n",
      ),
  },
  { kind: "add a message", file: SOURCE, change: (t) => `${t}\nmessage Pause {\n  uint32 millis = 1;\n}\n` },
  {
    kind: "add a field to an existing oneof",
    file: SOURCE,
    change: (t) =>
      `${edit(t, "    CommitNotice commit = 3;\n", "    CommitNotice commit = 3;\n    Pause pause = 4;\n")}\nmessage Pause {}\n`,
  },
  {
    kind: "add an enum value",
    file: COMPONENT,
    change: (t) =>
      edit(t, "  ORDERING_TOTAL = 3;\n", "  ORDERING_TOTAL = 3;\n  ORDERING_PER_PARTITION = 4;\n"),
  },
  {
    kind: "add an enum",
    file: COMPONENT,
    change: (t) => `${t}\nenum Tier {\n  TIER_UNSPECIFIED = 0;\n  TIER_GOLD = 1;\n}\n`,
  },
  {
    kind: "add a nested message",
    file: SOURCE,
    change: (t) =>
      edit(
        t,
        "message Exhausted {\n",
        "message Exhausted {\n  message Reason {\n    string text = 1;\n  }\n",
      ),
  },
  {
    kind: "add a map field",
    file: SOURCE,
    change: (t) =>
      edit(t, "  string stage_id = 6;\n", "  string stage_id = 6;\n  map<string, string> labels = 8;\n"),
  },
  {
    kind: "edit comments",
    file: SOURCE,
    change: (t) =>
      edit(
        edit(t, "// Describe returns the source's capabilities.", "// Describe says what the source can do."),
        /^\/\/ SourceService:/,
        "// The SourceService:",
      ),
  },
  {
    kind: "reformat",
    file: SOURCE,
    change: (t) =>
      edit(
        t,
        "message CreditGrant {\n  // Additional batches the source may send.\n  uint32 batches = 1;\n}",
        "message CreditGrant { uint32 batches = 1; }",
      ),
  },
  {
    kind: "reorder fields",
    file: SOURCE,
    change: (t) =>
      edit(
        t,
        "  uint32 linger_ms = 5;\n  string stage_id = 6;\n",
        "  string stage_id = 6;\n  uint32 linger_ms = 5;\n",
      ),
  },
  {
    kind: "deprecate a field",
    file: SOURCE,
    change: (t) => edit(t, "uint32 linger_ms = 5;", "uint32 linger_ms = 5 [deprecated = true];"),
  },
  {
    kind: "reserve more numbers",
    file: SOURCE,
    change: (t) => edit(t, "  reserved 15;\n", "  reserved 15, 20 to 25;\n"),
  },
];

describe("breaking-change catalog on a copy of the real source_service and component contracts", () => {
  let temp: TempRepo;

  beforeAll(() => {
    temp = TempRepo.create();
    temp.write("flow.proto.yaml", "prefix: flow.microservices\n");
    for (const name of ["event", "component", "checkpoint"]) {
      temp.write(`proto/${name}/v1/${name}.proto`, real(`proto/${name}/v1/${name}.proto`));
    }
    temp.commit("shared types");
    for (const name of ["event", "component", "checkpoint"]) release(temp, name, "1.0.0", `proto/${name}/v1`);
    temp.write("sources/proto-pins.yaml", manifestYaml(["event@^1", "component@^1", "checkpoint@^1"]));
    vendorDir(temp.repo, ReleaseLedger.read(temp.root), "sources");
    // The real contract plus reserved entries, so that reusing them can be tried.
    temp.write(
      SOURCE,
      edit(
        real(SOURCE),
        "  string stage_id = 6;\n",
        '  string stage_id = 6;\n  reserved 15;\n  reserved "legacy_offset";\n',
      ),
    );
    temp.commit("source_service");
    release(temp, "source_service", "1.0.0", "sources/proto/source_service/v1");
    temp.commit("releases");
  });
  afterAll(() => temp.remove());

  // Only the throwaway repository is reset, never the project's.
  afterEach(() => {
    temp.git("reset", "-q", "--hard");
    temp.git("clean", "-fdq");
  });

  const breakingOf = (c: CatalogCase): BreakingChange[] => {
    temp.write(c.file, c.change(temp.read(c.file)));
    const name = c.file === SOURCE ? "source_service" : "component";
    return checkBreaking(temp.repo, ReleaseLedger.read(temp.root), [name]).flatMap(
      (comparison) => comparison.changes,
    );
  };

  it("has at least 15 breaking and 10 compatible kinds", () => {
    expect(new Set(BREAKING.map((c) => c.kind)).size).toBeGreaterThanOrEqual(15);
    expect(new Set(COMPATIBLE.map((c) => c.kind)).size).toBeGreaterThanOrEqual(10);
  });

  it.each(BREAKING.map((c) => [c.kind, c] as const))("catches: %s", (_kind, c) => {
    const changes = breakingOf(c);
    expect(changes.map((change) => change.rule)).toContain(c.rule);
    for (const change of changes) {
      expect(change.file).toBe(c.file);
      expect(change.line).toBeGreaterThan(0);
      expect(change.message.length).toBeGreaterThan(0);
    }
  });

  it.each(COMPATIBLE.map((c) => [c.kind, c] as const))("passes: %s", (_kind, c) => {
    expect(breakingOf(c)).toEqual([]);
  });

  it("names the file, line and what broke", () => {
    const changes = breakingOf(BREAKING[2] as CatalogCase);
    const line =
      temp
        .read(SOURCE)
        .split("\n")
        .findIndex((text) => text.includes("uint64 initial_credits = 3;")) + 1;
    expect(changes).toEqual([
      {
        file: SOURCE,
        line,
        col: 3,
        rule: "FIELD_SAME_TYPE",
        message:
          'Field "3" with name "initial_credits" on message "ReadStart" changed type from "uint32" to "uint64".',
      },
    ]);
  });

  it("catches a deleted file of the contract", () => {
    temp.git("mv", SOURCE, "sources/proto/source_service/v1/source_service.proto");
    const changes =
      checkBreaking(temp.repo, ReleaseLedger.read(temp.root), ["source_service"])[0]?.changes ?? [];
    expect(changes).toContainEqual(expect.objectContaining({ file: SOURCE, rule: "FILE_NO_DELETE" }));
  });

  it("reports an unchanged contract as unchanged and compares nothing", () => {
    const comparisons = checkBreaking(temp.repo, ReleaseLedger.read(temp.root));
    expect(comparisons.map((c) => `${c.folder.path} ${c.status}`)).toEqual([
      "proto/checkpoint/v1 unchanged",
      "proto/component/v1 unchanged",
      "proto/event/v1 unchanged",
      "sources/proto/source_service/v1 unchanged",
    ]);
  });

  it("accepts a new v2 folder beside v1 as the sanctioned way to break", () => {
    temp.write(
      "sources/proto/source_service/v2/source.proto",
      edit(
        edit(temp.read(SOURCE), "source_service.v1;", "source_service.v2;"),
        /\n\s*bool validate_only = 2;/,
        "",
      ),
    );
    const comparisons = checkBreaking(temp.repo, ReleaseLedger.read(temp.root), ["source_service"]);
    expect(comparisons.map((c) => `${c.folder.path} ${c.status} ${c.changes.length}`)).toEqual([
      "sources/proto/source_service/v1 unchanged 0",
      "sources/proto/source_service/v2 new-major 0",
    ]);
  });

  it("does not count the vendored copies of shared types as contracts", () => {
    const names = checkBreaking(temp.repo, ReleaseLedger.read(temp.root)).map((c) => c.folder.path);
    expect(names).not.toContain("sources/proto/event/v1");
  });

  it("prints file:line:col: RULE: message and a hint, exit 1; exit 0 when compatible", () => {
    const lines: string[] = [];
    jest.spyOn(console, "error").mockImplementation((line: string) => lines.push(line));
    jest.spyOn(console, "log").mockImplementation((line: string) => lines.push(line));
    try {
      temp.write(SOURCE, edit(temp.read(SOURCE), "uint64 last_sequence = 1;", "uint64 final_sequence = 1;"));
      expect(reportBreakingResult(runBreakingCommand({ root: temp.root }))).toBe(1);
      expect(lines).toContainEqual(
        expect.stringMatching(
          /^sources\/proto\/source_service\/v1\/source\.proto:\d+:\d+: FIELD_SAME_NAME: /,
        ),
      );
      expect(lines).toContainEqual(expect.stringContaining("add sources/proto/source_service/v2/ beside v1"));
      temp.git("checkout", "--", SOURCE);
      lines.length = 0;
      temp.write(SOURCE, `${temp.read(SOURCE)}\nmessage Pause {}\n`);
      expect(reportBreakingResult(runBreakingCommand({ root: temp.root, names: ["source_service"] }))).toBe(
        0,
      );
      expect(lines).toEqual(["source_service v1 (sources/proto/source_service/v1): compatible with 1.0.0"]);
    } finally {
      jest.restoreAllMocks();
    }
  });

  it("says which contract names exist when given an unknown one", () => {
    expect(() => runBreakingCommand({ root: temp.root, names: ["nope"] })).toThrow(
      'no contract named "nope" in this repository',
    );
  });

  it("a contract that no longer compiles is an input error, not a finding", () => {
    temp.write(SOURCE, edit(temp.read(SOURCE), "uint64 last_sequence = 1;", "Missing last_sequence = 1;"));
    expect(() => runBreakingCommand({ root: temp.root })).toThrow(
      /cannot compare source_service v1 \(the working tree does not compile\): sources\/proto\/source_service\/v1\/source\.proto:\d+:\d+: /,
    );
  });

  it("works in a clone without tags (the ledger's commit is enough)", () => {
    const clone = TempRepo.clone(temp, { noTags: true });
    try {
      clone.write(SOURCE, edit(clone.read(SOURCE), "uint64 last_sequence = 1;", "int64 last_sequence = 1;"));
      const changes =
        checkBreaking(clone.repo, ReleaseLedger.read(clone.root), ["source_service"])[0]?.changes ?? [];
      expect(changes.map((c) => c.rule)).toEqual(["FIELD_SAME_TYPE"]);
    } finally {
      clone.remove();
    }
  });
});

describe("flow proto breaking on a one-service-per-folder repository with another prefix", () => {
  let temp: TempRepo;
  beforeEach(() => {
    temp = perServiceLayoutRepo("acme.platform");
    addBillingService(temp, "acme.platform");
    release(temp, "billing_service", "1.0.0", "billing/proto/billing_service/v1");
    temp.commit("release billing 1.0.0");
  });
  afterEach(() => temp.remove());

  it("finds the breaking change in a service folder and in a shared type", () => {
    temp.write(
      "billing/proto/billing_service/v1/billing.proto",
      temp.read("billing/proto/billing_service/v1/billing.proto").replace("sample = 1;", "sample = 2;"),
    );
    temp.write("proto/order/v1/order.proto", dataTypeProto("acme.platform", "order", "  bytes id = 1;\n"));
    const result = runBreakingCommand({ root: temp.root });
    expect(
      result.comparisons.map((c) => `${c.folder.path}: ${c.changes.map((change) => change.rule).join(",")}`),
    ).toEqual(["billing/proto/billing_service/v1: FIELD_NO_DELETE", "proto/order/v1: FIELD_SAME_TYPE"]);
    // The vendored copy of order beside billing is not a contract of its own.
    expect(result.comparisons.map((c) => c.folder.path)).not.toContain("billing/proto/order/v1");
  });
});
