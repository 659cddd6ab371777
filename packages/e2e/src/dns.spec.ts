import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { RECORDING_CONSUMER, runFlow, serviceMain } from "./test-support/flow-cli";
import { tempDir } from "./test-support/temp-dir";

/** A service started by hand (not by Core); resolves with the port its handshake line announces. */
function startService(main: string, cwd: string): { child: ChildProcess; port: Promise<number> } {
  const child = spawn(process.execPath, [main], { cwd, env: process.env, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const port = new Promise<number>((resolve, reject) => {
    let stdout = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /\|tcp\|[^|]*:(\d+)\|/.exec(stdout);
      if (match) resolve(Number(match[1]));
    });
    child.once("exit", (code) =>
      reject(new Error(`${main} exited (${code}) before its handshake:\n${stderr}`)),
    );
  });
  return { child, port };
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
}

describe("`dns: name:port` stages: services found through the DNS resolver", () => {
  const dir = tempDir("dns");
  const children: ChildProcess[] = [];

  afterAll(async () => {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        await exited(child);
      }
    }
    dir.remove();
  });

  it("runs a pipeline whose processor and consumer are `dns: localhost:<port>` services started by hand", async () => {
    const processor = startService(serviceMain("@flow/processor-filter"), dir.path);
    const consumer = startService(RECORDING_CONSUMER, dir.path);
    children.push(processor.child, consumer.child);
    const [processorPort, consumerPort] = await Promise.all([processor.port, consumer.port]);

    // `flow describe` finds a service by DNS name the same way a pipeline does.
    const described = await runFlow(["describe", `dns:localhost:${consumerPort}`], { cwd: dir.path });
    expect(described.code).toBe(0);
    expect(described.stdout).toContain("flow-e2e-recording-consumer 0.1.0 (consumer)");

    const outPath = join(dir.path, "recorded.txt");
    const file = dir.file(
      "pipeline.yaml",
      `
apiVersion: flow/v1
kind: Pipeline
metadata: { name: e2e-dns }
state: { url: ${JSON.stringify(`sqlite:${join(dir.path, "state.db")}`)} }
defaults: { batch: { maxSize: 40 } }
sources:
  - id: orders
    command: [node, ${JSON.stringify(serviceMain("@flow/source-generator"))}]
    config: { count: 1200, payload: { template: { seq: "{{seq}}" } } }
processors:
  - id: thirds
    dns: localhost:${processorPort}
    inputs: [orders]
    config: { expression: "data.seq % 3 = 0" }
consumers:
  - id: recorder
    dns: localhost:${consumerPort}
    inputs: [thirds]
    config: { path: ${JSON.stringify(outPath)} }
`,
    );
    const run = await runFlow(["run", file, "--json", "--no-progress"], { cwd: dir.path });
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary.status).toBe("succeeded");
    expect(summary.stages.find((stage: { stageId: string }) => stage.stageId === "recorder").eventsIn).toBe(
      400,
    );

    const recorded = readFileSync(outPath, "utf8").trim().split("\n").sort();
    expect(recorded).toEqual(Array.from({ length: 400 }, (_, i) => `orders-${3 * (i + 1)}`).sort());

    // Core did not start these services, so it leaves them running.
    expect(processor.child.exitCode).toBeNull();
    expect(consumer.child.exitCode).toBeNull();
    for (const { child } of [processor, consumer]) {
      child.kill("SIGTERM");
      expect(await exited(child)).toEqual({ code: 0, signal: null });
    }
  });

  it("fails a run on a name that does not resolve, naming the stage and the target dialled", async () => {
    const file = dir.file(
      "unresolvable.yaml",
      `
apiVersion: flow/v1
kind: Pipeline
metadata: { name: e2e-dns-missing }
state: { url: ${JSON.stringify(`sqlite:${join(dir.path, "state.db")}`)} }
sources:
  - id: orders
    command: [node, ${JSON.stringify(serviceMain("@flow/source-generator"))}]
    config: { count: 10 }
consumers:
  - id: recorder
    dns: no-such-host.invalid:7000
    inputs: [orders]
    config: { path: out.txt }
`,
    );
    const run = await runFlow(["run", file, "--no-progress"], { cwd: dir.path });
    expect(run.code).toBe(1);
    // Core dials the name through grpc-js's DNS resolver: `dns:///name:port`.
    expect(run.stderr).toContain('consumer "recorder"');
    expect(run.stderr).toContain("dns:///no-such-host.invalid:7000");
  });
});
