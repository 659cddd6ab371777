import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadPipeline, openStateStore, PipelineRunner, type StageCounters } from "@flow/core";
import pino from "pino";
import { RECORDING_CONSUMER, serviceMain } from "./test-support/flow-cli";
import { tempDir } from "./test-support/temp-dir";

describe("a consumer's own inFlight", () => {
  const dir = tempDir("stage-in-flight");
  afterAll(() => dir.remove());

  it("bounds the batches unanswered on its stream below the source's credits; the rest wait in order in Core", async () => {
    const out = join(dir.path, "ids.txt");
    const release = join(dir.path, "release");
    const total = 2_000;
    const file = dir.file(
      "pipeline.yaml",
      `
apiVersion: flow/v1
kind: Pipeline
metadata: { name: narrow }
defaults: { batch: { maxSize: 10 }, inFlight: 8 }
sources:
  - id: gen
    command: [node, ${JSON.stringify(serviceMain("@flow/source-generator"))}]
    config: { count: ${total} }
consumers:
  - id: slow
    command: [node, ${JSON.stringify(RECORDING_CONSUMER)}]
    inputs: [gen]
    inFlight: 2
    config: { path: ${JSON.stringify(out)}, stallAfterBatches: 1, releaseFile: ${JSON.stringify(release)} }
`,
    );
    const pipeline = loadPipeline(file);
    const store = await openStateStore(pipeline.state.url, { baseDir: pipeline.baseDir });
    const runner = new PipelineRunner({
      plan: pipeline,
      store,
      logger: pino({ level: "silent" }),
      statsIntervalMs: 50,
    });
    let maxConsumerInFlight = 0;
    let sourceFull = 0;
    runner.on("progress", (stages: StageCounters[]) => {
      const gen = stages.find((stage) => stage.stageId === "gen") as StageCounters;
      const slow = stages.find((stage) => stage.stageId === "slow") as StageCounters;
      maxConsumerInFlight = Math.max(maxConsumerInFlight, slow.inFlight);
      // The source has used all its credits while the consumer holds: the rest wait in Core.
      if (gen.inFlight === 8) sourceFull += 1;
      if (sourceFull === 5) writeFileSync(release, "");
    });
    const result = await runner.run();
    await store.close();

    expect(result.status).toBe("succeeded");
    expect(sourceFull).toBeGreaterThanOrEqual(5);
    expect(maxConsumerInFlight).toBe(2);
    const ids = readFileSync(out, "utf8").trim().split("\n");
    expect(ids).toEqual(Array.from({ length: total }, (_, index) => `gen-${index + 1}`));
  });
});
