import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { StageCounters } from "@flow/core";
import { RECORDING_CONSUMER, serviceMain } from "./test-support/flow-cli";
import { runInProcess } from "./test-support/in-process-run";
import { tempDir } from "./test-support/temp-dir";

/**
 * Backpressure: with a consumer that stops acknowledging, the source may only get as far as its
 * credits allow. This test is the core (the runner runs in this process), so its own memory is
 * the core's memory.
 */
describe("a stalled consumer", () => {
  const dir = tempDir("stall");
  afterAll(() => dir.remove());

  it("holds the source to its credits, keeps core memory bounded, and drops nothing once released", async () => {
    const total = 200_000;
    const batch = 200;
    const inFlight = 4;
    const stallAfter = 3;
    const out = join(dir.path, "ids.txt");
    const release = join(dir.path, "release");
    const file = dir.file(
      "pipeline.yaml",
      `
apiVersion: flow/v1
kind: Pipeline
metadata: { name: stall }
defaults: { batch: { maxSize: ${batch} }, inFlight: ${inFlight} }
sources:
  - id: gen
    command: [node, ${JSON.stringify(serviceMain("@flow/source-generator"))}]
    config: { count: ${total}, payload: { size: 1000 } }
consumers:
  - id: slow
    command: [node, ${JSON.stringify(RECORDING_CONSUMER)}]
    inputs: [gen]
    config: { path: ${JSON.stringify(out)}, stallAfterBatches: ${stallAfter}, releaseFile: ${JSON.stringify(release)} }
`,
    );
    let maxSourceInFlight = 0;
    let baselineRss = 0;
    let peakRss = 0;
    let stalledTicks = 0;
    let lastOut = -1;
    let released = false;
    let heldAt = 0;
    const { result } = await runInProcess(
      file,
      (stages) => {
        const gen = stages.find((stage) => stage.stageId === "gen") as StageCounters;
        maxSourceInFlight = Math.max(maxSourceInFlight, gen.inFlight);
        if (!released) {
          const rss = process.memoryUsage().rss;
          baselineRss ||= rss;
          peakRss = Math.max(peakRss, rss);
        }
        stalledTicks = gen.eventsOut === lastOut && gen.eventsOut > 0 ? stalledTicks + 1 : 0;
        lastOut = gen.eventsOut;
        // Ten ticks without a single new event from an unthrottled source: it is held back. Check, then release.
        if (stalledTicks === 10 && !released) {
          released = true;
          heldAt = gen.eventsOut;
          writeFileSync(release, "");
        }
      },
      100,
    );

    expect(result.status).toBe("succeeded");
    expect(released).toBe(true);
    // Written batches plus the credits: nothing more may leave the source while the consumer holds.
    expect(heldAt).toBeGreaterThan(0);
    expect(heldAt).toBeLessThanOrEqual((stallAfter + inFlight + 1) * batch);
    expect(maxSourceInFlight).toBeLessThanOrEqual(inFlight);
    // While the consumer holds, an unbounded core would pile up the 200 MB of payloads the source
    // can produce; a bounded one holds a few batches. (This process is also jest, so its absolute
    // RSS says little; the benchmark measures the core's own.)
    expect(peakRss - baselineRss).toBeLessThan(32 * 1024 * 1024);
    const ids = readFileSync(out, "utf8").trim().split("\n");
    expect(ids).toHaveLength(total);
    expect(new Set(ids).size).toBe(total);
  });
});
