import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { StageCounters } from "@flow/core";
import { RECORDING_CONSUMER, serviceMain } from "./test-support/flow-cli";
import { runInProcess } from "./test-support/in-process-run";
import { tempDir } from "./test-support/temp-dir";

/**
 * A generator of `total` events in batches of 10 with `credits`, into a recording consumer that
 * stalls after its first batch; `consumer` holds the consumer's own settings (YAML lines).
 */
function slowConsumerPipeline(options: {
  name: string;
  total: number;
  credits: number;
  consumer: string;
  config: string;
}): string {
  return `
apiVersion: flow/v1
kind: Pipeline
metadata: { name: ${options.name} }
defaults: { batch: { maxSize: 10 }, inFlight: ${options.credits} }
sources:
  - id: gen
    command: [node, ${JSON.stringify(serviceMain("@flow/source-generator"))}]
    config: { count: ${options.total} }
consumers:
  - id: slow
    command: [node, ${JSON.stringify(RECORDING_CONSUMER)}]
    inputs: [gen]
    ${options.consumer}
    config: { ${options.config} }
`;
}

describe("a consumer's own inFlight", () => {
  const dir = tempDir("stage-in-flight");
  afterAll(() => dir.remove());

  it("bounds the batches unanswered on its stream below the source's credits; the rest wait in order in Core", async () => {
    const out = join(dir.path, "ids.txt");
    const release = join(dir.path, "release");
    const total = 2_000;
    const file = dir.file(
      "pipeline.yaml",
      slowConsumerPipeline({
        name: "narrow",
        total,
        credits: 8,
        consumer: "inFlight: 2",
        config: `path: ${JSON.stringify(out)}, stallAfterBatches: 1, releaseFile: ${JSON.stringify(release)}`,
      }),
    );
    let maxConsumerInFlight = 0;
    let sourceFull = 0;
    const { result } = await runInProcess(file, (stages) => {
      const gen = stages.find((stage) => stage.stageId === "gen") as StageCounters;
      const slow = stages.find((stage) => stage.stageId === "slow") as StageCounters;
      maxConsumerInFlight = Math.max(maxConsumerInFlight, slow.inFlight);
      // The source has used all its credits while the consumer holds: the rest wait in Core.
      if (gen.inFlight === 8) sourceFull += 1;
      if (sourceFull === 5) writeFileSync(release, "");
    });

    expect(result.status).toBe("succeeded");
    expect(sourceFull).toBeGreaterThanOrEqual(5);
    expect(maxConsumerInFlight).toBe(2);
    const ids = readFileSync(out, "utf8").trim().split("\n");
    expect(ids).toEqual(Array.from({ length: total }, (_, index) => `gen-${index + 1}`));
  });

  it("sends what waited behind a busy stream as larger batches, up to the stage's maxSize, and commits every checkpoint", async () => {
    const out = join(dir.path, "merged-ids.txt");
    const sizes = join(dir.path, "merged-sizes.txt");
    const release = join(dir.path, "merged-release");
    const total = 1_000;
    const file = dir.file(
      "merged.yaml",
      slowConsumerPipeline({
        name: "merged",
        total,
        credits: 16,
        consumer: "inFlight: 1\n    batch: { maxSize: 100 }",
        config: `path: ${JSON.stringify(out)}, batchSizesPath: ${JSON.stringify(sizes)}, stallAfterBatches: 1, releaseFile: ${JSON.stringify(release)}`,
      }),
    );
    let full = 0;
    const { result, checkpoints } = await runInProcess(file, (stages) => {
      const gen = stages.find((stage) => stage.stageId === "gen") as StageCounters;
      if (gen.inFlight === 16) full += 1;
      if (full === 3) writeFileSync(release, "");
    });

    expect(result.status).toBe("succeeded");
    const written = readFileSync(sizes, "utf8").trim().split("\n").map(Number);
    // The first batch alone, then the 15 that waited behind it (and so on) merged up to 100 events.
    expect(written[0]).toBe(10);
    expect(Math.max(...written)).toBe(100);
    expect(written.every((size) => size <= 100)).toBe(true);
    expect(written.length).toBeLessThan(total / 10);
    expect(readFileSync(out, "utf8").trim().split("\n")).toEqual(
      Array.from({ length: total }, (_, index) => `gen-${index + 1}`),
    );
    expect(result.stages.find((stage) => stage.stageId === "slow")?.batchesIn).toBe(written.length);
    expect(checkpoints.map((checkpoint) => checkpoint.description)).toEqual([`next sequence ${total + 1}`]);
  });
});
