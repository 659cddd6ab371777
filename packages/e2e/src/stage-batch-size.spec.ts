import { readFileSync } from "node:fs";
import { join } from "node:path";
import { RECORDING_CONSUMER, runFlow, serviceMain } from "./test-support/flow-cli";
import { tempDir } from "./test-support/temp-dir";

describe("a stage's batch.maxSize", () => {
  const dir = tempDir("stage-batch");
  afterAll(() => dir.remove());

  it("caps the batches Core sends that stage, whatever size the stage before it sends", async () => {
    const ids = join(dir.path, "ids.txt");
    const sizes = join(dir.path, "sizes.txt");
    const file = dir.file(
      "pipeline.yaml",
      `
apiVersion: flow/v1
kind: Pipeline
metadata: { name: small-bites }
defaults: { batch: { maxSize: 50 } }
sources:
  - id: gen
    command: [node, ${JSON.stringify(serviceMain("@flow/source-generator"))}]
    config: { count: 120 }
consumers:
  - id: rec
    command: [node, ${JSON.stringify(RECORDING_CONSUMER)}]
    inputs: [gen]
    batch: { maxSize: 7 }
    config: { path: ${JSON.stringify(ids)}, batchSizesPath: ${JSON.stringify(sizes)} }
`,
    );
    const run = await runFlow(["run", file, "--json"], { cwd: dir.path });
    expect(run.code).toBe(0);
    const written = readFileSync(sizes, "utf8").trim().split("\n").map(Number);
    expect(Math.max(...written)).toBe(7);
    expect(written.reduce((sum, size) => sum + size, 0)).toBe(120);
    // 120 events in source batches of 50, 50, 20, each cut into 7s: 8 + 8 + 3 batches.
    expect(written).toHaveLength(19);
    expect(readFileSync(ids, "utf8").trim().split("\n")).toEqual(
      Array.from({ length: 120 }, (_, index) => `gen-${index + 1}`),
    );
    const summary = JSON.parse(run.stdout);
    expect(summary.stages.find((stage: { stageId: string }) => stage.stageId === "rec")).toMatchObject({
      eventsIn: 120,
      batchesIn: 19,
    });
  });
});
