import { existsSync, readdirSync } from "node:fs";
import { get } from "node:http";
import { join } from "node:path";
import {
  DIRECT_PATH_ON,
  FLOW_BIN,
  FlowProcess,
  RECORDING_CONSUMER,
  REPOSITORY_ROOT,
  repositoryCheckout,
  runFlow,
  runShell,
  serviceMain,
} from "./test-support/flow-cli";
import { tempDir } from "./test-support/temp-dir";

function fetchText(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, (response) => {
      let body = "";
      response.on("data", (chunk: Buffer) => {
        body += chunk.toString();
      });
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
    }).on("error", reject);
  });
}

/** `use:` names resolve in the workspace the command runs in. */
const workspaceRoot = join(FLOW_BIN, "..", "..", "..", "..");

describe("flow command surfaces", () => {
  const dir = tempDir("cli");
  afterAll(() => dir.remove());

  it("serves Prometheus metrics with per-stage counters and latency histograms while running", async () => {
    const file = dir.file(
      "metrics.yaml",
      `
apiVersion: flow/v1
kind: Pipeline
metadata: { name: metrics }
sources:
  - id: gen
    command: [node, ${JSON.stringify(serviceMain("@flow/source-generator"))}]
    config: { count: 30000, rate: 10000 }
consumers:
  - id: rec
    command: [node, ${JSON.stringify(RECORDING_CONSUMER)}]
    inputs: [gen]
    config: { path: ids.txt }
`,
    );
    const run = new FlowProcess(["run", file, "--metrics-port", "0"], { cwd: dir.path });
    const announced = JSON.parse(await run.waitForLog(/"msg":"metrics"/)) as { url: string };
    await run.waitForLog(/"stageId":"rec","eventsIn":\d+,"eventsOut":[1-9].*"msg":"progress"/);
    const metrics = await fetchText(announced.url);
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/flow_stage_events_out_total\{[^}]*stage="gen"[^}]*\} [1-9]/);
    expect(metrics.body).toMatch(/flow_stage_batch_seconds_bucket\{[^}]*stage="rec"/);
    // Core reads an event's creation time from the batches it holds; on the direct data path it
    // holds references only, and the histogram stays empty (a known gap: docs/pipeline.md).
    if (!DIRECT_PATH_ON)
      expect(metrics.body).toMatch(/flow_event_latency_seconds_count\{[^}]*stage="rec"[^}]*\} [1-9]/);
    else expect(metrics.body).not.toMatch(/flow_event_latency_seconds_count\{[^}]*stage="rec"[^}]*\} [1-9]/);
    expect(metrics.body).toContain('pipeline="metrics"');
    const notFound = await fetchText(announced.url.replace("/metrics", "/other"));
    expect(notFound.status).toBe(404);
    expect((await run.wait()).code).toBe(0);
  });

  it("describes a workspace service package: capabilities and config schema", async () => {
    const result = await runFlow(["describe", "@flow/processor-filter", "--json"], { cwd: workspaceRoot });
    expect(result.code).toBe(0);
    const component = JSON.parse(result.stdout);
    expect(component.name).toBe("flow-processor-filter");
    // proto3 JSON, as `flow registry list --json` prints a descriptor: enums by name, zeros left out.
    expect(component.family).toBe("FAMILY_PROCESSOR");
    // Every major it serves; Core speaks the highest both know.
    expect(component.contracts).toEqual([
      { name: "processor_service", major: 1 },
      { name: "processor_service", major: 2, minor: expect.any(Number) },
    ]);
    expect(component.negotiated).toEqual(expect.objectContaining({ name: "processor_service", major: 2 }));
    expect(component.configSchema.required).toContain("expression");
    const text = await runFlow(["describe", "@flow/processor-filter"], { cwd: workspaceRoot });
    expect(text.stdout).toMatch(/^speaks with this core: processor_service v2 \(2\.\d+\.\d+\)$/m);
    expect(text.stdout).toMatch(
      /^features: \{"ordering":"ORDERING_[A-Z]+","deadLetters":true,"directPath":true,"bundles":true\}$/m,
    );
  });

  it("says clearly what is wrong with an unknown package, a missing file and a bad command", async () => {
    const unknown = await runFlow(["describe", "@flow/no-such-service"], { cwd: workspaceRoot });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/use: "@flow\/no-such-service" is not a package of the workspace/);
    const missing = await runFlow(["run", "nope.yaml"], { cwd: dir.path });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.yaml: no such pipeline file/);
    expect(missing.stderr).not.toMatch(/\n\s+at /);
    const usage = await runFlow(["frobnicate"], { cwd: dir.path });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/unknown command 'frobnicate'/);
  });
});

describe("one way to call flow, from the route the README installs", () => {
  const checkout = repositoryCheckout("readme-route");
  afterAll(() => checkout.remove());
  const inCheckout = { cwd: checkout.path, env: checkout.env };

  it("the quickstart ends with hints that all run as pasted, with no pnpm on PATH", async () => {
    // The route is `npx -y pnpm@… install && npx -y pnpm@… quickstart`: pnpm is never on PATH.
    expect((await runShell("command -v pnpm || command -v flow", inCheckout)).code).not.toBe(0);
    const quickstart = await runShell("node scripts/quickstart.mjs", inCheckout);
    expect(quickstart.stderr).toMatch(/run \S+ succeeded/);
    expect(quickstart.code).toBe(0);
    // "Look at them:  <command>", "Run history:   <command>"
    const hints = [...quickstart.stdout.matchAll(/^[A-Z][\w ]*:\s{2,}(\S.*)$/gm)].map((m) => m[1] as string);
    expect(hints.length).toBeGreaterThanOrEqual(2);
    for (const hint of hints) {
      const result = await runShell(hint, inCheckout);
      expect({ hint, code: result.code, stderr: result.stderr }).toEqual({
        hint,
        code: 0,
        stderr: expect.anything(),
      });
    }
  }, 180_000);

  it("`flow --version` prints the CLI's version and each contract major Core's proto/ holds", async () => {
    const result = await runFlow(["--version"], { cwd: checkout.path });
    expect(result.code).toBe(0);
    const { version } = require("@flow/cli/package.json") as { version: string };
    expect(result.stdout.split("\n")[0]).toBe(`flow ${version}`);
    const protoDir = join(REPOSITORY_ROOT, "packages", "core", "proto");
    const spoken = readdirSync(protoDir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .flatMap((entry) => readdirSync(join(protoDir, entry.name)).map((major) => `${entry.name} ${major}`));
    expect(spoken).toEqual(expect.arrayContaining(["source_service v1", "event v1"]));
    for (const contract of spoken) expect(result.stdout).toContain(contract);
    expect(result.stderr).toBe("");
  });
});

describe("state commands read the store they say, and refuse a pipeline it has never seen", () => {
  const checkout = repositoryCheckout("state-commands");
  afterAll(() => checkout.remove());
  const root = { cwd: checkout.path };
  const rootStore = join(checkout.path, ".flow");

  it("a name the root's default store never saw is refused, naming the store and the file to use; nothing is created", async () => {
    for (const args of [
      ["status", "quickstart"],
      ["checkpoints", "reset", "quickstart"],
      ["checkpoints", "list", "quickstart"],
    ]) {
      const result = await runFlow(args, root);
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toContain(
        'error: pipeline "quickstart" has never run with the state store .flow/state.db (there is no such store yet)',
      );
      expect(result.stderr).toContain(`-f examples/quickstart.yaml`);
      expect(result.stdout).toBe("");
    }
    expect(existsSync(rootStore)).toBe(false);
  });

  it("the pipeline file as the argument (or -f) reads the store it names, and says which", async () => {
    const before = await runFlow(["status", "examples/quickstart.yaml"], root);
    expect(before.code).toBe(0);
    expect(before.stdout).toContain("state store: examples/.flow/state.db (does not exist yet");
    expect(existsSync(join(checkout.path, "examples", ".flow", "state.db"))).toBe(false);

    const run = await runFlow(["run", "examples/quickstart.yaml", "--json"], root);
    expect(run.code).toBe(0);
    const { runId } = JSON.parse(run.stdout) as { runId: string };
    const status = await runFlow(["status", "examples/quickstart.yaml", "--json"], root);
    expect(JSON.parse(status.stdout)).toMatchObject({
      store: "examples/.flow/state.db",
      runs: [{ runId, pipeline: "quickstart", status: "succeeded" }],
      checkpoints: [{ pipeline: "quickstart", sourceId: "orders" }],
    });
    const named = await runFlow(["status", "quickstart", "--state", "sqlite:examples/.flow/state.db"], root);
    expect(named.code).toBe(0);
    expect(named.stdout).toContain(runId);

    const reset = await runFlow(["checkpoints", "reset", "examples/quickstart.yaml"], root);
    expect(reset.stdout).toBe("reset 1 checkpoint(s) of quickstart in examples/.flow/state.db\n");
    const again = await runFlow(["checkpoints", "reset", "-f", "examples/quickstart.yaml"], root);
    expect(again.stdout).toBe("reset 0 checkpoint(s) of quickstart in examples/.flow/state.db\n");
    expect(existsSync(rootStore)).toBe(false);

    const other = await runFlow(["status", "other", "-f", "examples/quickstart.yaml"], root);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/pipelines in examples\/\.flow\/state\.db: quickstart/);
  }, 120_000);
});

/** The top-level keys of a JSON object text, in order, duplicates kept (JSON.parse drops them). */
function topLevelKeys(line: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"') {
      let end = i + 1;
      while (line[end] !== '"') end += line[end] === "\\" ? 2 : 1;
      if (depth === 1 && expectKey) keys.push(JSON.parse(line.slice(i, end + 1)) as string);
      expectKey = false;
      i = end;
    } else if (c === "{" || c === "[") {
      depth += 1;
      expectKey = c === "{" && depth === 1;
    } else if (c === "}" || c === "]") depth -= 1;
    else if (c === "," && depth === 1) expectKey = true;
  }
  return keys;
}

describe("log lines a log pipeline can take in", () => {
  const dir = tempDir("log-lines");
  afterAll(() => dir.remove());
  const pipeline = (name: string) =>
    dir.file(
      `${name}.yaml`,
      `
apiVersion: flow/v1
kind: Pipeline
metadata: { name: ${name} }
sources:
  - id: gen
    command: [node, ${JSON.stringify(serviceMain("@flow/source-generator"))}]
    config: { count: 200 }
consumers:
  - id: rec
    command: [node, ${JSON.stringify(RECORDING_CONSUMER)}]
    inputs: [gen]
    config: { path: ${name}-ids.txt }
`,
    );

  it("name no key twice (service started has Core's pid and the service's), and each carries the runId", async () => {
    const result = await runFlow(["run", pipeline("logs"), "--no-progress", "--log-level", "debug"], {
      cwd: dir.path,
    });
    expect(result.code).toBe(0);
    const runId = /run (\S+) succeeded/.exec(result.stderr)?.[1];
    const lines = result.stderr.split("\n").filter((line) => line.startsWith("{"));
    expect(lines.some((line) => line.includes('"msg":"service started"'))).toBe(true);
    for (const line of lines) {
      const keys = topLevelKeys(line);
      expect({ line, twice: keys.filter((key, index) => keys.indexOf(key) !== index) }).toEqual({
        line,
        twice: [],
      });
      expect({ line, runId: (JSON.parse(line) as { runId?: string }).runId }).toEqual({ line, runId });
    }
    const started = JSON.parse(lines.find((line) => line.includes('"msg":"service started"')) as string);
    expect(started.servicePid).toEqual(expect.any(Number));
    expect(started.servicePid).not.toBe(started.pid);
  });

  /** flow run on a pseudo-terminal (util-linux `script`), as a user at a terminal runs it. */
  const onTerminal = (args: string[], term: string) =>
    runShell(
      `script -qefc ${JSON.stringify([process.execPath, FLOW_BIN, ...args].map((arg) => `'${arg}'`).join(" "))} /dev/null`,
      { cwd: dir.path, env: { ...process.env, TERM: term } },
    );

  it("on a terminal: --log-level is honoured over the live view, and TERM=dumb gets no cursor escapes", async () => {
    const quiet = await onTerminal(["run", pipeline("tty-default")], "xterm");
    expect(quiet.code).toBe(0);
    expect(quiet.stdout).toContain("\u001b[");
    expect(quiet.stdout).not.toContain("service started");
    const verbose = await onTerminal(["run", pipeline("tty-info"), "--log-level", "info"], "xterm");
    expect(verbose.code).toBe(0);
    expect(verbose.stdout).toMatch(/info: service started .*stage=gen/);
    const dumb = await onTerminal(["run", pipeline("tty-dumb")], "dumb");
    expect(dumb.code).toBe(0);
    expect(dumb.stdout).toMatch(/run \S+ succeeded/);
    expect(dumb.stdout).not.toContain("\u001b");
  }, 90_000);
});
