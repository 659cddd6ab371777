import { readFileSync } from "node:fs";
import { join } from "node:path";
import { FlowProcess, RECORDING_CONSUMER, runFlow, serviceMain } from "./test-support/flow-cli";
import { tempDir } from "./test-support/temp-dir";

describe("SIGINT stops a run cleanly and the next run resumes from the committed checkpoint", () => {
  const dir = tempDir("resume");
  afterAll(() => dir.remove());

  it("drains, commits, exits 130, then resumes without re-reading or losing anything", async () => {
    const out = join(dir.path, "ids.txt");
    const total = 100_000;
    const file = dir.file(
      "pipeline.yaml",
      `
apiVersion: flow/v1
kind: Pipeline
metadata: { name: resume }
defaults: { batch: { maxSize: 100 }, inFlight: 4 }
sources:
  - id: gen
    command: [node, ${JSON.stringify(serviceMain("@flow/source-generator"))}]
    config: { count: ${total}, rate: 10000 }
consumers:
  - id: rec
    command: [node, ${JSON.stringify(RECORDING_CONSUMER)}]
    inputs: [gen]
    config: { path: ${JSON.stringify(out)} }
`,
    );
    const first = new FlowProcess(["run", file], { cwd: dir.path });
    // Stop once data is flowing: the first progress log with written events.
    await first.waitForLog(/"stageId":"rec","eventsIn":\d+,"eventsOut":[1-9].*"msg":"progress"/);
    first.kill("SIGINT");
    const stopped = await first.wait();
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toMatch(/stopped in/);

    const afterFirst = readFileSync(out, "utf8").trim().split("\n");
    expect(afterFirst.length).toBeGreaterThan(0);
    expect(afterFirst.length).toBeLessThan(total);
    const listed = JSON.parse(
      (await runFlow(["checkpoints", "list", "--json", "-f", file], { cwd: dir.path })).stdout,
    );
    // The generator's checkpoint says which sequence comes next: everything before it was written.
    expect(listed[0].description).toBe(`next sequence ${afterFirst.length + 1}`);

    const second = await runFlow(["run", file, "--json"], { cwd: dir.path });
    expect(second.code).toBe(0);
    const summary = JSON.parse(second.stdout);
    expect(summary.stages.find((s: { stageId: string }) => s.stageId === "gen").eventsOut).toBe(
      total - afterFirst.length,
    );

    const ids = readFileSync(out, "utf8").trim().split("\n");
    expect(ids).toHaveLength(total);
    expect(new Set(ids).size).toBe(total);
    expect(ids[afterFirst.length]).toBe(`gen-${afterFirst.length + 1}`);
  });
});
