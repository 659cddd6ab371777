import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RECORDING_CONSUMER, runFlow, serviceMain } from "./test-support/flow-cli";
import { tempDir } from "./test-support/temp-dir";

describe("size limits: no message larger than a stage takes, and an event that fits none is dead-lettered", () => {
  const dir = tempDir("size-limits");
  afterAll(() => dir.remove());

  it("cuts batches to the consumer's batch.maxBytes and dead-letters the one event over it, delivering its neighbours", async () => {
    const input = join(dir.path, "input.jsonl");
    const out = join(dir.path, "ids.txt");
    const sizes = join(dir.path, "sizes.txt");
    // 30 events of ~200 KB around one of 2 MB: one source batch (maxSize 100) of ~8 MB.
    const line = (n: number, bytes: number) => JSON.stringify({ n, pad: "x".repeat(bytes) });
    const lines = Array.from({ length: 31 }, (_, n) => line(n, n === 15 ? 2_000_000 : 200_000));
    writeFileSync(input, `${lines.join("\n")}\n`);
    const file = dir.file(
      "pipeline.yaml",
      `
apiVersion: flow/v1
kind: Pipeline
metadata: { name: size-limits }
deadLetters: { allow: 1 }
sources:
  - id: lines
    command: [node, ${JSON.stringify(serviceMain("@flow/source-file"))}]
    config: { path: ${JSON.stringify(input)} }
consumers:
  - id: rec
    command: [node, ${JSON.stringify(RECORDING_CONSUMER)}]
    inputs: [lines]
    batch: { maxBytes: 1000000 }
    config: { path: ${JSON.stringify(out)}, batchSizesPath: ${JSON.stringify(sizes)} }
`,
    );
    const result = await runFlow(["run", file, "--json"], { cwd: dir.path });
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.deadLetters).toBe(1);

    // Every event but the big one arrived, each once, in batches of at most four ~200 KB events
    // (five would be over 1,000,000 bytes).
    const written = readFileSync(out, "utf8").trim().split("\n");
    expect(written).toHaveLength(30);
    expect(new Set(written).size).toBe(30);
    const batchSizes = readFileSync(sizes, "utf8").trim().split("\n").map(Number);
    expect(batchSizes.reduce((sum, n) => sum + n, 0)).toBe(30);
    expect(Math.max(...batchSizes)).toBe(4);

    const letters = readFileSync(join(dir.path, ".flow", "dead-letters.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((entry) => JSON.parse(entry));
    expect(letters).toHaveLength(1);
    expect(letters[0].stage).toBe("rec");
    expect(letters[0].reason).toMatch(
      /^event too large: \d+ bytes encoded, and consumer "rec" takes batches of at most 1000000 bytes \(its batch.maxBytes/,
    );
    expect(letters[0].event.data.n).toBe(15);

    // The checkpoint covers the whole file: nothing is left blocked behind the big event.
    const listed = await runFlow(["checkpoints", "list", "--json", "-f", file], { cwd: dir.path });
    expect(JSON.parse(listed.stdout)[0].description).toMatch(/^byte \d+ of /);
    const again = await runFlow(["run", file, "--json"], { cwd: dir.path });
    expect(
      JSON.parse(again.stdout).stages.find((s: { stageId: string }) => s.stageId === "lines").eventsOut,
    ).toBe(0);
  }, 60_000);
});
