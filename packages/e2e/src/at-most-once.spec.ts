import { readFileSync } from "node:fs";
import { join } from "node:path";
import { RECORDING_CONSUMER, runFlow, serviceMain } from "./test-support/flow-cli";
import { tempDir } from "./test-support/temp-dir";

describe("delivery: at-most-once", () => {
  const dir = tempDir("amo");
  afterAll(() => dir.remove());

  it("moves every event without committing a checkpoint", async () => {
    const out = join(dir.path, "ids.txt");
    const file = dir.file(
      "pipeline.yaml",
      `
apiVersion: flow/v1
kind: Pipeline
metadata: { name: amo }
delivery: at-most-once
defaults: { batch: { maxSize: 100 }, inFlight: 4 }
sources:
  - id: gen
    command: [node, ${JSON.stringify(serviceMain("@flow/source-generator"))}]
    config: { count: 20000 }
processors:
  - id: keep
    command: [node, ${JSON.stringify(serviceMain("@flow/processor-filter"))}]
    inputs: [gen]
    config: { expression: "true" }
consumers:
  - id: rec
    command: [node, ${JSON.stringify(RECORDING_CONSUMER)}]
    inputs: [keep]
    config: { path: ${JSON.stringify(out)} }
`,
    );
    const result = await runFlow(["run", file, "--json"], { cwd: dir.path });
    expect(result.code).toBe(0);
    const ids = readFileSync(out, "utf8").trim().split("\n");
    expect(ids).toHaveLength(20000);
    expect(new Set(ids).size).toBe(20000);
    const listed = await runFlow(["checkpoints", "list", "--json", "-f", file], { cwd: dir.path });
    expect(JSON.parse(listed.stdout)).toEqual([]);
  });
});
