import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

// End to end through the built command (dist/bin.js), on another team's repository: one service
// per folder, prefix acme.platform, nothing of this repository's layout.
const BIN = join(__dirname, "..", "dist", "bin.js");
const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: "Flow Test",
  GIT_AUTHOR_EMAIL: "test@flow.invalid",
  GIT_COMMITTER_NAME: "Flow Test",
  GIT_COMMITTER_EMAIL: "test@flow.invalid",
};

let root: string;

const git = (...args: string[]) =>
  execFileSync("git", args, { cwd: root, env: GIT_ENV, encoding: "utf8" }).trim();
const write = (path: string, text: string) => {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
};
const read = (path: string) => readFileSync(join(root, path), "utf8");
const commit = (message: string) => {
  git("add", "-A");
  git("commit", "-q", "-m", message);
};
function flow(...args: string[]): { status: number; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd: root, env: GIT_ENV, encoding: "utf8" });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

const ORDER = `syntax = "proto3";

package acme.platform.order.v1;

message Order {
  string id = 1;
}
`;
const BILLING = `syntax = "proto3";

package acme.platform.billing_service.v1;

import "order/v1/order.proto";

service BillingService {
  rpc Bill(BillRequest) returns (BillResponse);
}

message BillRequest {
  acme.platform.order.v1.Order order = 1;
}

message BillResponse {}
`;

beforeAll(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), "acme-cli-")));
  git("init", "-q", "-b", "main");
  git("config", "commit.gpgsign", "false");
  git("config", "tag.gpgsign", "false");
  write("flow.proto.yaml", "prefix: acme.platform\n");
  write("proto/order/v1/order.proto", ORDER);
  write("billing/README.md", "The billing service.\n");
  commit("order type");
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("flow proto, end to end on a one-service-per-folder repository", () => {
  it("releases, pins, lints, releases the service, and gates a breaking change", () => {
    let run = flow("proto", "release", "order", "major");
    expect(run).toMatchObject({ status: 0 });
    expect(run.stdout).toMatch(/^released {2}order 1\.0\.0: tag proto-order@v1\.0\.0 on [0-9a-f]{12}/);
    expect(git("tag", "--list")).toBe("proto-order@v1.0.0");
    commit("release order 1.0.0");

    run = flow("proto", "add", "billing", "order@^1", "--root", root);
    expect(run.stdout.split("\n")).toEqual([
      "pinned    order@^1 in billing/proto-pins.yaml",
      "vendored  billing/proto/order/v1 (order@^1: 1.0.0)",
      "",
    ]);
    write("billing/proto/billing_service/v1/billing.proto", BILLING);
    commit("billing contract");

    run = flow("proto", "lint");
    expect(run).toMatchObject({
      status: 0,
      stdout: "lint: 3 file(s) in 2 proto root(s) follow the conventions\n",
    });
    expect(flow("proto", "release", "billing_service", "major").status).toBe(0);
    commit("release billing_service 1.0.0");
    expect(read("billing/proto/billing_service/CHANGELOG.md")).toContain("## 1.0.0");

    write("proto/order/v1/order.proto", ORDER.replace("string id = 1;", "bytes id = 1;"));
    run = flow("proto", "breaking", "--quiet");
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(
      /^proto\/order\/v1\/order\.proto:6:3: FIELD_SAME_TYPE: Field "1" with name "id"/m,
    );
    expect(run.stderr).toContain("add proto/order/v2/ beside v1 (package acme.platform.order.v2)");
    commit("order: id as bytes");
    run = flow("proto", "release", "order", "minor");
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("error: a minor release of order cannot break 1.0.0: 1 breaking change(s)");
  });

  it("lint reports findings as path:line:col: rule: message with a hint, exit 1", () => {
    const run = flow("proto", "lint", "billing", "--prefix", "flow.microservices");
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      "billing/proto/billing_service/v1/billing.proto:3:1: package: package acme.platform.billing_service.v1 does not agree with the path: expected flow.microservices.billing_service.v1\n  hint: write: package flow.microservices.billing_service.v1;\n",
    );
  });

  it("vendor --check finds an edited copy, exit 1", () => {
    expect(flow("proto", "vendor", "--check").status).toBe(0);
    write("billing/proto/order/v1/order.proto", `${read("billing/proto/order/v1/order.proto")}// edit\n`);
    const run = flow("proto", "vendor", "--check");
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(
      /^billing\/proto\/order\/v1\/order\.proto:8:1: edited in the vendored copy of order 1\.0\.0/,
    );
    git("checkout", "--", "billing/proto/order/v1/order.proto");
  });

  it("errors a user meets are one line and a hint, exit 2, no stack trace", () => {
    const outside = realpathSync(mkdtempSync(join(tmpdir(), "not-a-repo-")));
    try {
      const cases: Array<[string[], string]> = [
        [["proto", "lint", "--root", outside], `error: ${outside} is not inside a git repository`],
        [
          ["proto", "lint", "--prefix", "Acme-Corp"],
          'error: --prefix: prefix "Acme-Corp" is not a valid protobuf package',
        ],
        [["proto", "release", "payments", "minor"], 'error: no contract named "payments" in this repository'],
        [
          ["proto", "add", "billing", "order@^9"],
          'error: billing/proto-pins.yaml: no release of order matches "^9"',
        ],
        [
          ["proto", "release", "order", "major"],
          "error: a major release of order needs the folder proto/order/v2/",
        ],
      ];
      for (const [args, message] of cases) {
        const run = flow(...args);
        expect({ args, status: run.status }).toEqual({ args, status: 2 });
        const lines = run.stderr.trimEnd().split("\n");
        expect(lines[0]).toBe(message);
        expect(lines.slice(1).every((line) => line.startsWith("  hint: "))).toBe(true);
        expect(run.stderr).not.toMatch(/\n\s+at /);
      }
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it("lint --json and breaking --json print one JSON document on stdout, nothing else", () => {
    let run = flow("proto", "lint", "--json");
    expect(run.stderr).toBe("");
    expect(JSON.parse(run.stdout)).toEqual({
      command: "proto lint",
      ok: true,
      exitCode: 0,
      files: 3,
      roots: ["billing/proto", "proto"],
      findings: [],
      unusable: [],
    });
    expect(run.status).toBe(0);

    run = flow("proto", "lint", "billing", "--prefix", "flow.microservices", "--json");
    expect(run.status).toBe(1);
    expect(run.stderr).toBe("");
    const lint = JSON.parse(run.stdout);
    expect(lint).toMatchObject({ ok: false, exitCode: 1 });
    expect(lint.findings[0]).toEqual({
      file: "billing/proto/billing_service/v1/billing.proto",
      line: 3,
      column: 1,
      rule: "package",
      message:
        "package acme.platform.billing_service.v1 does not agree with the path: expected flow.microservices.billing_service.v1",
      hint: "write: package flow.microservices.billing_service.v1;",
    });

    // The working tree still holds "order: id as bytes" from the first test, committed on top of 1.0.0.
    run = flow("proto", "breaking", "--json");
    expect(run.stderr).toBe("");
    expect(run.status).toBe(1);
    const breaking = JSON.parse(run.stdout);
    expect(breaking).toMatchObject({ command: "proto breaking", ok: false, exitCode: 1, againstRef: null });
    expect(breaking.contracts).toContainEqual({
      name: "order",
      major: 1,
      path: "proto/order/v1",
      status: "compared",
      against: { version: "1.0.0", tag: "proto-order@v1.0.0" },
    });
    expect(breaking.findings).toEqual([
      expect.objectContaining({
        file: "proto/order/v1/order.proto",
        line: 6,
        column: 3,
        rule: "FIELD_SAME_TYPE",
      }),
    ]);
  });

  it("breaking --against <ref> compares with any git ref; --json errors are JSON too", () => {
    let run = flow("proto", "breaking", "order", "--against", "HEAD", "--json");
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: true, exitCode: 0, againstRef: "HEAD" });
    run = flow("proto", "breaking", "order", "--against", "proto-order@v1.0.0");
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("hint: order v1 (proto/order/v1) breaks proto-order@v1.0.0 in 1 place(s)");

    run = flow("proto", "breaking", "--against", "no-such-ref", "--json");
    expect(run.status).toBe(2);
    expect(run.stderr).toBe("");
    expect(JSON.parse(run.stdout)).toEqual({
      command: "proto breaking",
      ok: false,
      exitCode: 2,
      error: {
        message: "--against no-such-ref: no such branch, tag or commit in this repository",
        hint: "name a ref git knows (git branch -a, git tag), e.g. --against main",
      },
      findings: [],
    });
  });
});
