import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { RECORDING_CONSUMER, runFlow, serviceMain } from "./test-support/flow-cli";
import { tempDir } from "./test-support/temp-dir";

/** A generator of `count` events into the recording consumer, with a 300 ms ack timeout. */
function hungConsumerPipeline(name: string, count: number, consumerConfig: string, restarts: number): string {
  return `
apiVersion: flow/v1
kind: Pipeline
metadata: { name: ${name} }
defaults:
  batch: { maxSize: 10 }
  inFlight: 2
  timeouts: { ackMs: 300 }
  retry: { maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 10 }
  restart: { maxRestarts: ${restarts}, initialDelayMs: 10, maxDelayMs: 10 }
sources:
  - id: gen
    command: [node, ${JSON.stringify(serviceMain("@flow/source-generator"))}]
    config: { count: ${count} }
consumers:
  - id: hung
    command: [node, ${JSON.stringify(RECORDING_CONSUMER)}]
    inputs: [gen]
    config: ${consumerConfig}
`;
}

describe("timeouts.ackMs: a consumer that stops answering", () => {
  const dir = tempDir("ack-timeout");
  afterAll(() => dir.remove());

  it("is replaced: its stream is abandoned, the service restarted, the unanswered batches replayed; nothing is dead-lettered", async () => {
    const out = join(dir.path, "ids.txt");
    const marker = join(dir.path, "hung-once");
    // Hangs on its third batch, for good; the process that replaces it writes normally.
    const config = `{ path: ${JSON.stringify(out)}, stallAfterBatches: 2, hangOnceMarker: ${JSON.stringify(marker)} }`;
    const file = dir.file("replaced.yaml", hungConsumerPipeline("ack-timeout", 50, config, 3));
    const result = await runFlow(["run", file, "--json"], { cwd: dir.path });
    expect(result.code).toBe(0);
    expect(existsSync(marker)).toBe(true);
    const summary = JSON.parse(result.stdout);
    expect(summary.deadLetters).toBe(0);
    const consumer = summary.stages.find((stage: { stageId: string }) => stage.stageId === "hung");
    expect(consumer.restarts).toBe(1);
    expect(result.stderr).toMatch(/no answer within 300 ms/);
    const written = readFileSync(out, "utf8").trim().split("\n");
    // At-least-once: the batches the hung process held may have been written by it before it hung
    // (not here: it hangs before writing), and every event arrives.
    expect(new Set(written).size).toBe(50);
    expect(written).toHaveLength(50);
  }, 60_000);

  it("that hangs every time fails the run once its restarts are spent, naming the stage; nothing is dead-lettered", async () => {
    const out = join(dir.path, "always.txt");
    const never = join(dir.path, "never");
    const config = `{ path: ${JSON.stringify(out)}, stallAfterBatches: 2, releaseFile: ${JSON.stringify(never)} }`;
    const file = dir.file("always.yaml", hungConsumerPipeline("ack-timeout-always", 50, config, 1));
    const result = await runFlow(["run", file, "--json"], { cwd: dir.path });
    expect(result.code).toBe(1);
    const summary = JSON.parse(result.stdout);
    expect(summary.status).toBe("failed");
    expect(summary.deadLetters).toBe(0);
    expect(summary.error).toBe(
      'stage "hung": service restarted 1 times and failed again (no answer within 300 ms)',
    );
    expect(existsSync(join(dir.path, ".flow", "dead-letters.jsonl"))).toBe(false);
  }, 60_000);
});
