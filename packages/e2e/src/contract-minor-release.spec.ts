import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { REPOSITORY_ROOT } from "./test-support/flow-cli";

// Issue #14, item 3: generated code is the only source of message types. A compatible minor
// release of `event` (one new field) and `flow proto upgrade` of every pin must leave a workspace
// that builds, type-checks (specs included) and runs. A hand-written copy of a generated type
// anywhere (an interface, an object literal typed as a generated message) fails here.
//
// It works on a clone of the repository's committed HEAD (FLOW_TEST_CLONE_REF names another commit,
// e.g. one before a fix, to see the test fail there) in a temporary folder: the repository itself is
// never released or changed. The clone installs offline from the pnpm store the repository's own
// install filled, and the test takes minutes: a full build and type-check of the clone.

const MINUTES = 60_000;
const PIPELINE_EVENTS = 1000;

interface CommandResult {
  code: number | null;
  output: string;
}

/** Runs a program to completion in `cwd`, stdout and stderr interleaved as they came. */
function run(program: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, output }));
  });
}

/** The environment of this process without what the pnpm and turbo running the test set for it. */
function cleanEnvironment(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(TURBO_|npm_package_|npm_lifecycle_)/i.test(name)),
  );
  // No turbo daemon left running after the test, nothing sent anywhere.
  return { ...env, TURBO_DAEMON: "false", TURBO_TELEMETRY_DISABLED: "1" };
}

/** A failed step names its command and shows the end of what it printed. */
function expectSuccess(step: string, result: CommandResult): void {
  if (result.code === 0) return;
  throw new Error(`${step} exited with ${result.code}:\n${result.output.split("\n").slice(-80).join("\n")}`);
}

/** `event.proto` with one more string field in `message`, numbered after its highest field. */
function withNewEventField(proto: string, message: "Event" | "CloudEvent", field: string): string {
  const block = new RegExp(`^message ${message} \\{\\n([\\s\\S]*?)^\\}`, "m").exec(proto);
  if (!block?.[1]) throw new Error(`event.proto has no \`message ${message} { ... }\` block`);
  const numbers = [...block[1].matchAll(/=\s*(\d+)\s*;/g)].map((match) => Number(match[1]));
  const next = Math.max(...numbers) + 1;
  const end = (block.index ?? 0) + block[0].length - 1;
  return `${proto.slice(0, end)}  string ${field} = ${next};\n${proto.slice(end)}`;
}

describe("a compatible minor release of event, vendored everywhere by flow proto upgrade", () => {
  let folder: string;

  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), "flow-e2e-minor-release-"));
  });

  afterAll(() => {
    rmSync(folder, { recursive: true, force: true });
  });

  it(
    "builds, type-checks and runs a pipeline in a clone of the repository",
    async () => {
      const clone = join(folder, "repository");
      const env = cleanEnvironment();
      // The workspace's own pnpm (a root devDependency), never one fetched by npx.
      const pnpmCli = join(REPOSITORY_ROOT, "node_modules", "pnpm", "bin", "pnpm.cjs");
      const pnpm = (args: string[], cwd = clone) => run(process.execPath, [pnpmCli, ...args], cwd, env);
      const flow = (args: string[]) =>
        run(process.execPath, [join(clone, "packages/cli/dist/bin.js"), ...args], clone, env);
      const git = (args: string[], cwd = clone) =>
        run("git", ["-c", "user.name=Flow e2e", "-c", "user.email=e2e@flow.invalid", ...args], cwd, env);

      const topLevel = await git(["rev-parse", "--show-toplevel"], REPOSITORY_ROOT);
      expectSuccess("git rev-parse --show-toplevel", topLevel);
      expectSuccess("git clone", await git(["clone", "--quiet", topLevel.output.trim(), clone], folder));
      const ref = process.env.FLOW_TEST_CLONE_REF;
      if (ref) expectSuccess(`git switch --detach ${ref}`, await git(["switch", "--quiet", "--detach", ref]));
      // The store the repository was installed from: a clone on another file system would otherwise
      // get a store of its own there, empty, and an offline install would find nothing in it.
      const store = await pnpm(["store", "path"], REPOSITORY_ROOT);
      expectSuccess("pnpm store path", store);
      const install = ["install", "--offline", "--frozen-lockfile", `--store-dir=${store.output.trim()}`];
      expectSuccess("pnpm install --offline", await pnpm(install));
      expectSuccess(
        "pnpm build of @flow/cli",
        await pnpm(["build", "--filter=@flow/cli...", "--output-logs=errors-only"]),
      );

      // A new field in both released majors: each gets its minor release (v1 by --major).
      for (const [major, message] of [
        [1, "Event"],
        [2, "CloudEvent"],
      ] as const) {
        const eventProto = join(clone, "proto", "event", `v${major}`, "event.proto");
        writeFileSync(
          eventProto,
          withNewEventField(readFileSync(eventProto, "utf8"), message, "partitionkey"),
        );
      }
      expectSuccess("git commit", await git(["commit", "--quiet", "-am", "event: partitionkey"]));
      for (const major of [1, 2]) {
        const release = await flow([
          "proto",
          "release",
          "event",
          "minor",
          "--major",
          `${major}`,
          "--note",
          "partitionkey",
        ]);
        expectSuccess(`flow proto release event minor --major ${major}`, release);
        expect(release.output).toMatch(new RegExp(`released\\s+event ${major}\\.\\d+\\.0`));
      }
      // --no-generate: the build below generates every package (turbo's generate task).
      const upgrade = await flow(["proto", "upgrade", "--no-generate"]);
      expectSuccess("flow proto upgrade", upgrade);
      expect(upgrade.output).toMatch(/replaced\s+packages\/sdk\/proto\/event\/v1/);
      expect(upgrade.output).toMatch(/replaced\s+packages\/sdk\/proto\/event\/v2/);

      expectSuccess("pnpm build", await pnpm(["build", "--continue", "--output-logs=errors-only"]));
      expectSuccess("pnpm typecheck", await pnpm(["typecheck", "--continue", "--output-logs=errors-only"]));
      // What the pipeline below runs was generated from the new contract.
      for (const major of [1, 2])
        expect(readFileSync(join(clone, `packages/sdk/dist/gen/event/v${major}/event.d.ts`), "utf8")).toMatch(
          /^\s*partitionkey: string;$/m,
        );

      const database = join(folder, "orders.db");
      writeFileSync(
        join(clone, "minor-release.yaml"),
        [
          "apiVersion: flow/v1",
          "kind: Pipeline",
          "metadata: { name: minor-release }",
          "sources:",
          "  - id: orders",
          '    use: "@flow/source-generator"',
          `    config: { count: ${PIPELINE_EVENTS}, type: com.example.order, source: "urn:e2e", payload: { template: { n: "{{seq}}" } } }`,
          "processors:",
          "  - id: second-half",
          '    use: "@flow/processor-filter"',
          "    inputs: [orders]",
          `    config: { expression: "data.n > ${PIPELINE_EVENTS / 2}" }`,
          "consumers:",
          "  - id: store",
          '    use: "@flow/consumer-sqlite"',
          "    inputs: [second-half]",
          `    config: { path: ${JSON.stringify(database)}, table: orders }`,
          "",
        ].join("\n"),
      );
      expectSuccess("flow run", await flow(["run", "minor-release.yaml"]));
      const db = new Database(database, { readonly: true });
      try {
        const ids = (db.prepare("SELECT id FROM orders ORDER BY id").all() as { id: string }[]).map(
          (row) => row.id,
        );
        expect(ids).toHaveLength(PIPELINE_EVENTS / 2);
        expect(ids).toContain(`orders-${PIPELINE_EVENTS}`);
        expect(ids).not.toContain(`orders-${PIPELINE_EVENTS / 2}`);
      } finally {
        db.close();
      }
    },
    30 * MINUTES,
  );
});
