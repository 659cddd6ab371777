import { join } from "node:path";
import { FlowProcess, RECORDING_CONSUMER, runFlow, serviceMain } from "./test-support/flow-cli";
import { tempDir } from "./test-support/temp-dir";

describe("one live run per pipeline", () => {
  const dir = tempDir("concurrent");
  afterAll(() => dir.remove());

  it("refuses a second run and a checkpoint reset while a run is live, and allows both after it stops", async () => {
    const out = join(dir.path, "ids.txt");
    const file = dir.file(
      "pipeline.yaml",
      `
apiVersion: flow/v1
kind: Pipeline
metadata: { name: once }
sources:
  - id: gen
    command: [node, ${JSON.stringify(serviceMain("@flow/source-generator"))}]
    config: { count: 1000000, rate: 2000 }
consumers:
  - id: rec
    command: [node, ${JSON.stringify(RECORDING_CONSUMER)}]
    inputs: [gen]
    config: { path: ${JSON.stringify(out)} }
`,
    );
    const first = new FlowProcess(["run", file], { cwd: dir.path });
    try {
      await first.waitForLog(/"msg":"source starts"/);

      const second = await runFlow(["run", file], { cwd: dir.path });
      expect(second.code).toBe(2);
      expect(second.stderr).toMatch(
        /error: cannot start another run of it: pipeline "once" is running \(run [\w-]+, pid \d+ on /,
      );
      expect(second.stderr).toMatch(/hint: stop that run first/);

      const reset = await runFlow(["checkpoints", "reset", "-f", file], { cwd: dir.path });
      expect(reset.code).toBe(2);
      expect(reset.stderr).toMatch(/error: cannot reset the checkpoints of once: pipeline "once" is running/);
    } finally {
      first.kill("SIGINT");
    }
    expect((await first.wait()).code).toBe(130);

    const reset = await runFlow(["checkpoints", "reset", "-f", file], { cwd: dir.path });
    expect(reset.code).toBe(0);
    expect(reset.stdout).toMatch(/reset 1 checkpoint\(s\) of once/);
  });
});
