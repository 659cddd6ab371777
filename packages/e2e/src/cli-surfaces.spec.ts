import { get } from "node:http";
import { join } from "node:path";
import { FLOW_BIN, FlowProcess, RECORDING_CONSUMER, runFlow, serviceMain } from "./test-support/flow-cli";
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
    expect(metrics.body).toMatch(/flow_event_latency_seconds_count\{[^}]*stage="rec"[^}]*\} [1-9]/);
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
    expect(component.contracts).toEqual([{ name: "processor_service", major: 1, minor: 0, patch: 0 }]);
    expect(component.configSchema.required).toContain("expression");
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
