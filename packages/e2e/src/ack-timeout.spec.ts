import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { RECORDING_CONSUMER, runFlow, serviceMain } from "./test-support/flow-cli";
import { tempDir } from "./test-support/temp-dir";

describe("timeouts.ackMs", () => {
  const dir = tempDir("ack-timeout");
  afterAll(() => dir.remove());

  it("retries a batch a consumer never answers and dead-letters it after the last attempt; the run still ends", async () => {
    const out = join(dir.path, "ids.txt");
    const file = dir.file(
      "pipeline.yaml",
      `
apiVersion: flow/v1
kind: Pipeline
metadata: { name: ack-timeout }
defaults:
  batch: { maxSize: 10 }
  inFlight: 2
  timeouts: { ackMs: 300 }
  retry: { maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 10 }
sources:
  - id: gen
    command: [node, ${JSON.stringify(serviceMain("@flow/source-generator"))}]
    config: { count: 50 }
consumers:
  - id: hung
    command: [node, ${JSON.stringify(RECORDING_CONSUMER)}]
    inputs: [gen]
    # Hangs on its third batch, for good: the release file never appears.
    config: { path: ${JSON.stringify(out)}, stallAfterBatches: 2, releaseFile: ${JSON.stringify(join(dir.path, "never"))} }
`,
    );
    const result = await runFlow(["run", file, "--json"], { cwd: dir.path });
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout);
    const written = existsSync(out) ? readFileSync(out, "utf8").trim().split("\n") : [];
    expect(written).toHaveLength(20);
    expect(summary.deadLetters).toBe(30);
    const letters = readFileSync(join(dir.path, ".flow", "dead-letters.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(letters).toHaveLength(30);
    expect(letters[0].reason).toBe("no answer within 300 ms (gave up after 2 attempts)");
    expect(new Set([...written, ...letters.map((letter) => letter.event.id)]).size).toBe(50);
  }, 60_000);
});
