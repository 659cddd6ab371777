import { execFileSync, spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, isAbsolute, join } from "node:path";
import { createInterface } from "node:readline";
import { runLintCommand } from "./lint-command";
import { readManifest } from "./pin-manifest";
import { ReleaseLedger } from "./release-ledger";
import { scaffoldService, scaffoldStandaloneService } from "./service-scaffold";
import {
  addBillingService,
  familyLayoutRepo,
  manifestYaml,
  perServiceLayoutRepo,
  release,
  serviceProto,
} from "./test-support/fixture-repos";
import { TempRepo } from "./test-support/temp-repo";
import { runVendorCommand } from "./vendor-command";
import { vendorDir } from "./vendoring";

const PREFIX = "flow.microservices";
const ownVersion = JSON.parse(readFileSync(join(__dirname, "..", "package.json"), "utf8")).version as string;

/** The workspace files a scaffolded package extends (content is irrelevant to these tests). */
function addWorkspaceFiles(temp: TempRepo): void {
  temp.write("tsconfig.base.json", "{}\n");
  temp.write("jest.base.js", "module.exports = {};\n");
  temp.write("buf.gen.yaml", "version: v2\n");
  temp.write("scripts/vendor.mjs", "\n");
}

/** A family-layout repository whose processor_service (importing event) is released. */
function repoWithProcessorContract(): TempRepo {
  const temp = familyLayoutRepo(PREFIX);
  addWorkspaceFiles(temp);
  temp.write("processors/proto-pins.yaml", manifestYaml(["event@^1"]));
  vendorDir(temp.repo, ReleaseLedger.read(temp.root), "processors");
  temp.write("processors/proto/processor_service/v1/processor.proto", serviceProto(PREFIX, "processor"));
  temp.commit("processor family");
  release(temp, "processor_service", "1.0.0", "processors/proto/processor_service/v1");
  temp.commit("release processor_service");
  return temp;
}

describe("flow new", () => {
  let temp: TempRepo;
  beforeEach(() => {
    temp = repoWithProcessorContract();
  });
  afterEach(() => temp.remove());

  it("creates a package in the family folder with the contract and the types it imports vendored", () => {
    const result = scaffoldService({ root: temp.root, family: "processor", name: "order-enricher" });

    expect(result).toEqual(
      expect.objectContaining({
        dir: "processors/order-enricher",
        packageName: "@flow/processor-order-enricher",
      }),
    );
    expect(result.files).toEqual([
      "README.md",
      "jest.config.js",
      "package.json",
      "proto-pins.lock.yaml",
      "proto-pins.yaml",
      "src/index.ts",
      "src/main.ts",
      "src/order-enricher-processor.spec.ts",
      "src/order-enricher-processor.ts",
      "tsconfig.build.json",
      "tsconfig.json",
    ]);
    for (const file of result.files)
      expect(existsSync(temp.path(`processors/order-enricher/${file}`))).toBe(true);
    expect(readManifest(temp.root, "processors/order-enricher").pins.map((pin) => pin.spec)).toEqual([
      "processor_service@^1",
      "event@^1",
    ]);
    expect(temp.read("processors/order-enricher/proto/processor_service/v1/processor.proto")).toBe(
      temp.read("processors/proto/processor_service/v1/processor.proto"),
    );
    expect(temp.read("processors/order-enricher/proto/event/v1/event.proto")).toBe(
      temp.read("proto/event/v1/event.proto"),
    );

    const manifest = JSON.parse(temp.read("processors/order-enricher/package.json"));
    expect(manifest.scripts).toEqual(
      expect.objectContaining({
        vendor: "node ../../scripts/vendor.mjs --check --quiet .",
        generate: "buf generate proto --template ../../buf.gen.yaml",
      }),
    );
    expect(manifest.dependencies["@flow/sdk"]).toBe("workspace:*");
    expect(manifest.devDependencies["@flow/testing"]).toBe("workspace:*");
    const definition = temp.read("processors/order-enricher/src/order-enricher-processor.ts");
    expect(definition).toContain(
      "export const orderEnricherProcessor: ProcessorDefinition<OrderEnricherConfig>",
    );
    expect(definition).toContain('name: "flow-processor-order-enricher"');
    // At v1 the test sends FlowEvents as they are.
    const spec = temp.read("processors/order-enricher/src/order-enricher-processor.spec.ts");
    expect(spec).toContain('from "./gen/processor_service/v1/processor"');
    expect(spec).not.toContain("toCloudEvent");
    // main.ts is one call: the SDK finds the package and its generated service itself.
    const main = temp.read("processors/order-enricher/src/main.ts");
    expect(main).toContain("void serveProcessor(orderEnricherProcessor);\n");
    expect(main).not.toContain("packageDir");
    expect(temp.read("processors/order-enricher/README.md")).toContain(
      'use: "@flow/processor-order-enricher"',
    );

    expect(runVendorCommand({ root: temp.root, check: true }).findings).toEqual([]);
    expect(runLintCommand({ root: temp.root }).findings).toEqual([]);
  });

  it("scaffolds the latest major once it is released: v2, its test sending events as CloudEvents", () => {
    const v1 = (path: string) => temp.read(path).replaceAll(".v1", ".v2").replaceAll("/v1/", "/v2/");
    temp.write("proto/event/v2/event.proto", v1("proto/event/v1/event.proto"));
    temp.write(
      "processors/proto/processor_service/v2/processor.proto",
      v1("processors/proto/processor_service/v1/processor.proto"),
    );
    temp.commit("major 2");
    release(temp, "event", "2.0.0", "proto/event/v2");
    release(temp, "processor_service", "2.0.0", "processors/proto/processor_service/v2");
    temp.commit("release major 2");

    scaffoldService({ root: temp.root, family: "processor", name: "later" });
    expect(readManifest(temp.root, "processors/later").pins.map((pin) => pin.spec)).toEqual([
      "processor_service@^2",
      "event@^2",
    ]);
    expect(existsSync(temp.path("processors/later/proto/processor_service/v1"))).toBe(false);
    const spec = temp.read("processors/later/src/later-processor.spec.ts");
    expect(spec).toContain('from "./gen/processor_service/v2/processor"');
    expect(spec).toMatch(/import \{[^}]*\btoCloudEvent\b[^}]*\} from "@flow\/sdk"/);
    expect(spec).toContain(
      'toCloudEvent(createEvent({ id, source: "/test", type: "original", data: { id } }))',
    );
    expect(temp.read("processors/later/README.md")).toContain("speaks `processor_service` v2");
    expect(temp.read("processors/later/README.md")).toContain("the CloudEvents Protobuf Format");
  });

  it("makes the package installable like its siblings: their license, exports, not private", () => {
    const lone = scaffoldService({ root: temp.root, family: "processor", name: "alone" });
    expect(JSON.parse(temp.read(`${lone.dir}/package.json`))).toEqual(
      expect.objectContaining({
        private: true,
        exports: expect.objectContaining({ "./package.json": "./package.json" }),
      }),
    );

    for (const name of ["a", "b"])
      temp.write(
        `sources/${name}/package.json`,
        JSON.stringify({ name: `@flow/source-${name}`, license: "Apache-2.0" }),
      );
    const result = scaffoldService({ root: temp.root, family: "processor", name: "installable" });
    const manifest = JSON.parse(temp.read(`${result.dir}/package.json`));

    expect(manifest.license).toBe("Apache-2.0");
    expect(manifest.private).toBeUndefined();
    expect(manifest.exports["."]).toEqual({ types: "./dist/index.d.ts", default: "./dist/index.js" });
    expect(manifest.files).toEqual(["dist", "proto", "proto-pins.yaml", "proto-pins.lock.yaml", "README.md"]);
  });

  it("refuses an existing name, leaving it alone", () => {
    scaffoldService({ root: temp.root, family: "processor", name: "demo" });
    const before = temp.read("processors/demo/src/demo-processor.ts");
    expect(() => scaffoldService({ root: temp.root, family: "processor", name: "demo" })).toThrow(
      "processors/demo already exists",
    );
    expect(temp.read("processors/demo/src/demo-processor.ts")).toBe(before);
    temp.write("elsewhere/x/package.json", JSON.stringify({ name: "@flow/processor-other" }));
    expect(() => scaffoldService({ root: temp.root, family: "processor", name: "other" })).toThrow(
      "a package named @flow/processor-other already exists in elsewhere/x",
    );
  });

  it("refuses an invalid name or family", () => {
    for (const name of ["Demo", "demo_x", "-demo", "demo-", "1demo", "a".repeat(51)]) {
      expect(() => scaffoldService({ root: temp.root, family: "processor", name })).toThrow(
        `"${name}" is not a valid service name`,
      );
    }
    expect(() => scaffoldService({ root: temp.root, family: "sink", name: "demo" })).toThrow(
      '"sink" is not a service family',
    );
  });

  it("refuses a family whose contract was never released, writing nothing", () => {
    expect(() => scaffoldService({ root: temp.root, family: "consumer", name: "demo" })).toThrow(
      "consumer_service has never been released in this repository",
    );
    expect(existsSync(temp.path("consumers/demo"))).toBe(false);
  });

  it("refuses a repository that is not a Flow workspace", () => {
    temp.git("rm", "-q", "jest.base.js");
    expect(() => scaffoldService({ root: temp.root, family: "processor", name: "demo" })).toThrow(
      /^flow new needs a Flow workspace: jest\.base\.js missing/,
    );
  });
});

describe("flow new in a one-service-per-folder repository with another prefix", () => {
  it("creates <name>/ at the top with --dir . and its contracts vendored", () => {
    const temp = perServiceLayoutRepo("acme.platform");
    try {
      addWorkspaceFiles(temp);
      // The contract lives in a folder of its own (the shared proto/ holds data types only).
      temp.write("platform/proto-pins.yaml", manifestYaml(["order@^1"]));
      vendorDir(temp.repo, ReleaseLedger.read(temp.root), "platform");
      temp.write(
        "platform/proto/processor_service/v1/processor.proto",
        serviceProto("acme.platform", "processor", "order"),
      );
      temp.commit("processor contract beside the shared types it imports");
      release(temp, "processor_service", "1.0.0", "platform/proto/processor_service/v1");
      temp.commit("release");
      addBillingService(temp, "acme.platform");

      const result = scaffoldService({ root: temp.root, family: "processor", name: "enrich", parent: "." });

      expect(result.dir).toBe("enrich");
      expect(result.inWorkspace).toBe(false);
      expect(readManifest(temp.root, "enrich").pins.map((pin) => pin.spec)).toEqual([
        "processor_service@^1",
        "order@^1",
      ]);
      expect(temp.read("enrich/proto/order/v1/order.proto")).toContain("package acme.platform.order.v1;");
      expect(JSON.parse(temp.read("enrich/package.json")).scripts.generate).toBe(
        "buf generate proto --template ../buf.gen.yaml",
      );
      expect(temp.read("enrich/tsconfig.json")).toContain('"../tsconfig.base.json"');
      expect(runLintCommand({ root: temp.root }).findings).toEqual([]);
      expect(runVendorCommand({ root: temp.root, check: true }).findings).toEqual([]);
    } finally {
      temp.remove();
    }
  });
});

describe("flow new --standalone: a service in its own repository, vendoring a Flow release", () => {
  let flow: TempRepo;
  let outside: string;
  const toolchain = {
    "@bufbuild/buf": "1.75.0",
    "@swc/core": "1.16.22",
    "@swc/jest": "0.2.39",
    "@types/jest": "^30.0.0",
    "@types/node": "^20.19.0",
    jest: "30.5.2",
    "ts-proto": "2.18.0",
    typescript: "5.9.3",
  };
  beforeEach(() => {
    flow = repoWithProcessorContract();
    flow.write(".swcrc", '{ "jsc": {} }\n');
    flow.write("package.json", JSON.stringify({ name: "flow", private: true, devDependencies: toolchain }));
    flow.write(
      "packages/sdk/package.json",
      JSON.stringify({
        name: "@flow/sdk",
        dependencies: { "@grpc/grpc-js": "1.99.0", "@bufbuild/protobuf": "2.99.0" },
      }),
    );
    flow.commit("the files a standalone service takes from a Flow release");
    outside = realpathSync(mkdtempSync(join(tmpdir(), "flow-standalone-")));
  });
  afterEach(() => {
    flow.remove();
    rmSync(outside, { recursive: true, force: true });
  });

  const git = (dir: string, ...args: string[]) =>
    execFileSync("git", args, { cwd: dir, encoding: "utf8", stdio: "pipe" }).trim();

  it("fetches the release, takes its ledger and build settings, vendors by tree id and checks clean", () => {
    const result = scaffoldStandaloneService({
      family: "processor",
      name: "upper",
      dir: "upper",
      cwd: outside,
      flowRepo: flow.root,
    });
    const dir = join(outside, "upper");

    expect(result).toEqual(
      expect.objectContaining({
        dir,
        packageName: "flow-processor-upper",
        flowRepo: flow.root,
        flowCommit: flow.git("rev-parse", "HEAD"),
      }),
    );
    expect(result.files).toEqual([
      ".gitignore",
      ".swcrc",
      "README.md",
      "buf.gen.yaml",
      "flow.proto.yaml",
      "jest.base.js",
      "jest.config.js",
      "package.json",
      "pipeline.yaml",
      "proto-pins.lock.yaml",
      "proto-pins.yaml",
      "proto-releases.yaml",
      "src/index.ts",
      "src/main.ts",
      "src/upper-processor.spec.ts",
      "src/upper-processor.ts",
      "tsconfig.base.json",
      "tsconfig.build.json",
      "tsconfig.json",
    ]);
    // Its own repository, with Flow as a remote it can fetch newer releases from.
    expect(git(dir, "rev-parse", "--show-toplevel")).toBe(dir);
    expect(git(dir, "remote", "get-url", "flow")).toBe(flow.root);
    expect(git(dir, "rev-parse", "refs/remotes/flow/release")).toBe(flow.git("rev-parse", "HEAD"));
    for (const file of [
      "proto-releases.yaml",
      "flow.proto.yaml",
      "buf.gen.yaml",
      "tsconfig.base.json",
      ".swcrc",
    ])
      expect(readFileSync(join(dir, file), "utf8")).toBe(flow.read(file));

    // The contract and what it imports, vendored as the released trees and locked by their ids.
    expect(readManifest(dir, "").pins.map((pin) => pin.spec)).toEqual(["processor_service@^1", "event@^1"]);
    const ledger = ReleaseLedger.read(flow.root);
    for (const [name, path] of [
      ["processor_service", "proto/processor_service/v1"],
      ["event", "proto/event/v1"],
    ] as const) {
      const released = ledger.latestInMajor(name, 1);
      expect(git(dir, "write-tree", `--prefix=${path}/`)).toBe(released?.tree);
    }
    expect(readFileSync(join(dir, "proto/processor_service/v1/processor.proto"), "utf8")).toBe(
      flow.read("processors/proto/processor_service/v1/processor.proto"),
    );
    // Flow's release folders (processors/proto/...) were never in this repository: nothing is "deleted".
    expect(runVendorCommand({ root: dir, check: true }).findings).toEqual([]);
    // The package is the repository's root, so its vendored family contract sits in the root
    // proto/: a copy is where its lock puts it, which lint must not call misplaced.
    expect(runLintCommand({ root: dir }).findings).toEqual([]);

    const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    expect(manifest.scripts.build).toBe(
      "flow proto vendor --check --quiet . && buf generate proto --template buf.gen.yaml && tsc -p tsconfig.build.json",
    );
    expect(manifest.dependencies).toEqual({
      "@bufbuild/protobuf": "2.99.0",
      "@flow/sdk": `^${ownVersion}`,
      "@grpc/grpc-js": "1.99.0",
    });
    expect(manifest.devDependencies).toEqual({
      ...toolchain,
      "@flow/cli": `^${ownVersion}`,
      "@flow/consumer-file": `^${ownVersion}`,
      "@flow/source-generator": `^${ownVersion}`,
      "@flow/testing": `^${ownVersion}`,
    });
    expect(readFileSync(join(dir, "tsconfig.json"), "utf8")).toContain('"extends": "./tsconfig.base.json"');
    expect(readFileSync(join(dir, "pipeline.yaml"), "utf8")).toContain('use: "flow-processor-upper"');
  });

  it("vendors by the ledger of the ref asked for", () => {
    flow.git("branch", "before-processor", "HEAD~2");
    expect(() =>
      scaffoldStandaloneService({
        family: "processor",
        name: "upper",
        dir: join(outside, "upper"),
        flowRepo: flow.root,
        flowRef: "before-processor",
      }),
    ).toThrow(`processor_service has never been released in ${flow.root} (before-processor)`);
    expect(existsSync(join(outside, "upper"))).toBe(false);
  });

  it("refuses a folder that is not empty, leaving it as it was", () => {
    writeFileSync(join(outside, "notes.txt"), "mine\n");
    expect(() =>
      scaffoldStandaloneService({ family: "processor", name: "upper", dir: outside, flowRepo: flow.root }),
    ).toThrow(`${outside} is not an empty folder`);
    expect(readdirSync(outside)).toEqual(["notes.txt"]);
  });

  it("refuses a repository it cannot fetch, or one that is not Flow, writing nothing", () => {
    const missing = join(outside, "no-such-repository");
    expect(() =>
      scaffoldStandaloneService({
        family: "processor",
        name: "a",
        dir: join(outside, "a"),
        flowRepo: missing,
      }),
    ).toThrow(`cannot fetch HEAD from ${missing}:`);
    expect(existsSync(join(outside, "a"))).toBe(false);

    const plain = TempRepo.create();
    try {
      plain.write("README.md", "not Flow\n");
      plain.commit("a repository without releases");
      expect(() =>
        scaffoldStandaloneService({
          family: "processor",
          name: "b",
          dir: join(outside, "b"),
          flowRepo: plain.root,
        }),
      ).toThrow(`${plain.root} (HEAD) is not a Flow repository: it has no proto-releases.yaml`);
      expect(existsSync(join(outside, "b"))).toBe(false);
    } finally {
      plain.remove();
    }
  });

  it("empties an empty folder it was given again when a step fails", () => {
    mkdirSync(join(outside, "empty"));
    expect(() =>
      scaffoldStandaloneService({
        family: "consumer",
        name: "c",
        dir: join(outside, "empty"),
        flowRepo: flow.root,
      }),
    ).toThrow("consumer_service has never been released");
    expect(readdirSync(join(outside, "empty"))).toEqual([]);
  });
});

// The real thing: a clone of this repository (brought up to its working tree, so uncommitted work
// is tested too), `flow new processor demo`, then install, build and test the new package.
// Set FLOW_TEST_SKIP_SCAFFOLD_BUILD=1 to skip it (it installs and builds, about a minute).
const e2e = process.env.FLOW_TEST_SKIP_SCAFFOLD_BUILD === "1" ? describe.skip : describe;

/** Runs `program` with node until it prints its first line on stdout (or exits), then kills it. */
async function firstStdoutLine(program: string): Promise<string> {
  const child = spawn(process.execPath, [program], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  try {
    return await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).once("line", resolve);
      child.once("exit", (code) => reject(new Error(`${program} exited (${code}): ${stderr}`)));
    });
  } finally {
    child.kill("SIGKILL");
  }
}

e2e("flow new processor demo in a clone of this repository", () => {
  const source = execFileSync("git", ["rev-parse", "--show-toplevel"], {
    cwd: __dirname,
    encoding: "utf8",
  }).trim();
  let clone: TempRepo | undefined;
  afterAll(() => clone?.remove());

  // Relative PATH entries (pnpm adds ./node_modules/.bin) would resolve inside the clone's packages.
  const env = {
    ...process.env,
    PATH: (process.env.PATH ?? "")
      .split(delimiter)
      .filter((entry) => isAbsolute(entry))
      .join(delimiter),
  };
  // CI runs pnpm through npx; the workspace's own copy (a root devDependency) is then the one to use.
  const pnpm = existsSync(join(source, "node_modules", ".bin", "pnpm"))
    ? join(source, "node_modules", ".bin", "pnpm")
    : "pnpm";
  const run = (command: string, args: string[], cwd: string) => {
    const result = spawnSync(command, args, { cwd, env, encoding: "utf8" });
    if (result.status !== 0) {
      throw new Error(
        `${command} ${args.join(" ")} failed (${result.status}):\n${result.stdout}\n${result.stderr}`,
      );
    }
    return result.stdout;
  };

  it("installs, builds and passes its test with no manual step", async () => {
    clone = TempRepo.cloneWorkingTree(source);
    // As a developer would: the clone is installed (that is what gives them `pnpm flow`) before `flow new`.
    run(pnpm, ["install", "--prefer-offline", "--no-frozen-lockfile"], clone.root);
    const result = scaffoldService({ root: clone.root, family: "processor", name: "demo" });
    expect(result).toEqual(
      expect.objectContaining({ dir: "processors/demo", inWorkspace: true, formatted: true }),
    );

    run(pnpm, ["install", "--prefer-offline", "--no-frozen-lockfile"], clone.root);
    run(
      join(clone.root, "node_modules", ".bin", "turbo"),
      ["run", "build", "--filter=@flow/processor-demo...", "--output-logs=errors-only"],
      clone.root,
    );
    run(pnpm, ["test"], clone.path("processors/demo"));
    // The built program serves with no options: it prints the handshake of its vendored contract,
    // the latest major (flow new scaffolds it).
    expect(await firstStdoutLine(clone.path("processors/demo/dist/main.js"))).toMatch(
      /^flow-handshake\|1\|processor_service\|2\|tcp\|127\.0\.0\.1:\d+\|grpc$/,
    );

    const report = JSON.parse(readFileSync(clone.path("processors/demo/.jest-results.json"), "utf8"));
    expect(report).toEqual(expect.objectContaining({ success: true, numFailedTests: 0 }));
    expect(report.numPassedTests).toBeGreaterThanOrEqual(2);
    // The repository's lint formatter was applied, so the new package passes `biome check` as it is.
    run(join(clone.root, "node_modules", ".bin", "biome"), ["check", "processors/demo"], clone.root);
  }, 600_000);
});
