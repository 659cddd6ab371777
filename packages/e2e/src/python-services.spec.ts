import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type MachineRequirement, withMachineRequirement } from "@flow/testing";
import Database from "better-sqlite3";
import { FlowProcess, type FlowResult, REPOSITORY_ROOT, runFlow, serviceMain } from "./test-support/flow-cli";
import { tempDir } from "./test-support/temp-dir";

// The Python source, processor and consumer of examples/python, on Debian's python3-grpcio and
// python3-protobuf: each passes `flow conform`, and they run through the real `flow run` mixed
// with the TypeScript services, also when one of them is SIGKILLed mid-run.

const PYTHON = process.env.FLOW_TEST_PYTHON ?? "/usr/bin/python3";
const EXAMPLES = join(REPOSITORY_ROOT, "examples", "python");
// Python with stdout a pipe buffers the handshake line unless the service flushes it; a shell's
// PYTHONUNBUFFERED=1 would hide a missing flush=True, so the services run without it, as on a
// machine that does not set it.
const PYTHON_ENV = { PYTHONUNBUFFERED: "" };
const PYTHON_MODULES = ["grpc", "google.protobuf", "grpc_tools", "yaml"];
const HOW_TO_FIX =
  "apt-get install python3-grpcio python3-protobuf python3-grpc-tools protobuf-compiler python3-yaml (as .ci/run does), or point FLOW_TEST_PYTHON at an interpreter that has them";

function pythonServices(): MachineRequirement {
  const imports = spawnSync(PYTHON, ["-c", `import ${PYTHON_MODULES.join(", ")}`], { encoding: "utf8" });
  if (imports.error) return { available: false, reason: `${PYTHON}: ${imports.error.message}` };
  if (imports.status !== 0)
    return {
      available: false,
      reason: `${PYTHON} cannot import ${PYTHON_MODULES.join(", ")}: ${imports.stderr.trim().split("\n").at(-1)}`,
    };
  const protoc = spawnSync("protoc", ["--version"], { encoding: "utf8" });
  if (protoc.error || protoc.status !== 0) return { available: false, reason: "protoc is not on PATH" };
  return { available: true };
}

/** A pipeline stage's `command:` running one of the Python services. */
const python = (script: string) => JSON.stringify([PYTHON, join(EXAMPLES, script)]);
/** A pipeline stage's `command:` running a TypeScript service of the workspace (what `use:` spawns). */
const node = (packageName: string) => JSON.stringify(["node", serviceMain(packageName)]);

interface ConformResult {
  id: string;
  status: "pass" | "fail" | "skip";
  why: string;
}

function sqliteRows(path: string): { id: string; data: string; extensions: string | null }[] {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare("select id, data, extensions from events").all() as {
      id: string;
      data: string;
      extensions: string | null;
    }[];
  } finally {
    db.close();
  }
}

/** A `flow run` that must have succeeded; its log is shown when it did not. */
function expectSucceeded(result: FlowResult): void {
  expect({ code: result.code, stderr: result.code === 0 ? "" : result.stderr }).toEqual({
    code: 0,
    stderr: "",
  });
}

const range = (count: number, keep: (n: number) => boolean = () => true) =>
  Array.from({ length: count }, (_unused, index) => index + 1).filter(keep);

withMachineRequirement(
  "Python services (Debian's python3-grpcio and protoc)",
  pythonServices(),
  HOW_TO_FIX,
  () => {
    const dir = tempDir("python");
    beforeAll(() => {
      // Code generation from the vendored protos, as a service author runs it (not committed).
      const generated = spawnSync(PYTHON, [join(EXAMPLES, "generate.py")], { encoding: "utf8" });
      if (generated.status !== 0)
        throw new Error(`generate.py exited ${generated.status}:\n${generated.stdout}${generated.stderr}`);
    });
    afterAll(() => dir.remove());

    it("the Python runtime's own unit tests pass (examples/python/test_*.py)", () => {
      const result = spawnSync(PYTHON, ["-m", "unittest", "discover", "-s", EXAMPLES, "-p", "test_*.py"], {
        cwd: EXAMPLES,
        encoding: "utf8",
      });
      expect({ status: result.status, output: result.stderr.trim().split("\n").at(-1) }).toEqual({
        status: 0,
        output: "OK",
      });
    });

    describe.each([
      ["counter_source.py", "source"],
      ["uppercase_processor.py", "processor"],
      ["jsonl_consumer.py", "consumer"],
    ])("%s", (script, family) => {
      it(`passes every check of flow conform as a ${family}`, async () => {
        const config = join(EXAMPLES, "conform", script.replace(/\.py$/, ".json"));
        const result = await runFlow(
          ["conform", "--json", "--config", config, "--command", `${PYTHON} ${join(EXAMPLES, script)}`],
          { cwd: dir.path, env: PYTHON_ENV },
        );
        const report = JSON.parse(result.stdout) as { passed: boolean; results: ConformResult[] };
        expect(report.results.filter((check) => check.status !== "pass")).toEqual([]);
        // The checks that matter most for a service in another language were run, not skipped.
        expect(report.results.map((check) => check.id)).toEqual(
          expect.arrayContaining([
            "handshake.flushed",
            "health.watch",
            "reflection.call",
            "lifecycle.stdin",
            "lifecycle.sigterm",
            "crash.mid-batch",
          ]),
        );
        expect(result.code).toBe(0);
      }, 180_000);
    });

    it("Python source -> TypeScript filter -> Python consumer: every kept event arrives once", async () => {
      const total = 3000;
      const out = join(dir.path, "kept.jsonl");
      const file = dir.file(
        "python-ts-python.yaml",
        `
apiVersion: flow/v1
kind: Pipeline
metadata: { name: python-ts-python }
defaults: { batch: { maxSize: 100 } }
sources:
  - id: count
    command: ${python("counter_source.py")}
    config: { count: ${total}, idPrefix: "n-" }
processors:
  - id: thirds
    command: ${node("@flow/processor-filter")}
    inputs: [count]
    config: { expression: "data.n % 3 = 0" }
consumers:
  - id: file
    command: ${python("jsonl_consumer.py")}
    inputs: [thirds]
    config: { path: ${JSON.stringify(out)} }
`,
      );
      const result = await runFlow(["run", file], { cwd: dir.path, env: PYTHON_ENV });
      expectSucceeded(result);

      const lines = readFileSync(out, "utf8").trimEnd().split("\n");
      const events = lines.map(
        (line) => JSON.parse(line) as { id: string; data: { n: number; text: string } },
      );
      const wanted = range(total, (n) => n % 3 === 0);
      expect(events.map((event) => event.id).sort()).toEqual(wanted.map((n) => `n-${n}`).sort());
      expect(events.find((event) => event.id === "n-3")).toMatchObject({
        specversion: "1.0",
        source: "urn:flow:example:python-counter",
        type: "com.example.counter",
        datacontenttype: "application/json",
        data: { n: 3, text: "event 3" },
      });
    }, 120_000);

    it("TypeScript generator -> Python processor -> TypeScript SQLite: every event arrives once, transformed", async () => {
      const total = 5000;
      const db = join(dir.path, "upper.db");
      const file = dir.file(
        "ts-python-ts.yaml",
        `
apiVersion: flow/v1
kind: Pipeline
metadata: { name: ts-python-ts }
defaults: { batch: { maxSize: 100 } }
sources:
  - id: gen
    command: ${node("@flow/source-generator")}
    config: { count: ${total}, payload: { template: { text: "order {{seq}}", seq: "{{seq}}" } } }
processors:
  - id: upper
    command: ${python("uppercase_processor.py")}
    inputs: [gen]
    config: { field: text, extension: uppercased }
consumers:
  - id: db
    command: ${node("@flow/consumer-sqlite")}
    inputs: [upper]
    config: { path: ${JSON.stringify(db)}, table: events }
`,
      );
      const result = await runFlow(["run", file], { cwd: dir.path, env: PYTHON_ENV });
      expectSucceeded(result);

      const rows = sqliteRows(db);
      expect(rows.map((row) => row.id).sort()).toEqual(
        range(total)
          .map((n) => `gen-${n}`)
          .sort(),
      );
      for (const row of rows) {
        const { text, seq } = JSON.parse(row.data) as { text: string; seq: number };
        expect({ id: row.id, text }).toEqual({ id: row.id, text: `ORDER ${seq}` });
        expect(JSON.parse(row.extensions ?? "{}")).toMatchObject({ uppercased: true });
      }
    }, 120_000);

    it.each([
      ["the Python processor", "upper"],
      ["the Python source", "count"],
    ])(
      "SIGKILL of %s mid-run: restarted, and the idempotent sink holds every event once",
      async (_what, killed) => {
        const total = 30_000;
        const db = join(dir.path, `killed-${killed}.db`);
        const file = dir.file(
          `killed-${killed}.yaml`,
          `
apiVersion: flow/v1
kind: Pipeline
metadata: { name: killed-${killed} }
defaults: { batch: { maxSize: 100 }, inFlight: 8, restart: { initialDelayMs: 50 } }
sources:
  - id: count
    command: ${python("counter_source.py")}
    config: { count: ${total}, idPrefix: "e-", ratePerSecond: 10000 }
processors:
  - id: upper
    command: ${python("uppercase_processor.py")}
    inputs: [count]
    config: { field: text }
consumers:
  - id: db
    command: ${node("@flow/consumer-sqlite")}
    inputs: [upper]
    config: { path: ${JSON.stringify(db)}, table: events }
`,
        );
        const run = new FlowProcess(["run", file], { cwd: dir.path, env: PYTHON_ENV });
        const started = await run.waitForLog(new RegExp(`"stage":"${killed}".*"msg":"service started"`));
        const pid = (JSON.parse(started) as { servicePid: number }).servicePid;
        await run.waitForLog(/"stageId":"db","eventsIn":\d+,"eventsOut":[1-9].*"msg":"progress"/);
        process.kill(pid, "SIGKILL");
        const result = await run.wait();

        expectSucceeded(result);
        expect(result.stderr).toMatch(new RegExp(`"stage":"${killed}".*"msg":"service restarted"`));
        const rows = sqliteRows(db);
        expect(rows.length).toBe(total);
        expect(new Set(rows.map((row) => row.id))).toEqual(new Set(range(total).map((n) => `e-${n}`)));
        const upper = rows.filter((row) =>
          (JSON.parse(row.data) as { text: string }).text.startsWith("EVENT "),
        );
        expect(upper.length).toBe(total);
      },
      120_000,
    );
  },
);
