import { RECORDING_CONSUMER, runFlow, serviceMain } from "./test-support/flow-cli";
import { tempDir } from "./test-support/temp-dir";

describe("flow validate", () => {
  const dir = tempDir("validate");
  afterAll(() => dir.remove());

  it("reports every mistake of the file and of the services' configs at once, each with line:col", async () => {
    const file = dir.file(
      "bad.yaml",
      `apiVersion: flow/v1
kind: Pipeline
metadata: { name: bad }
sources:
  - id: gen
    command: [node, ${JSON.stringify(serviceMain("@flow/source-generator"))}]
    config: { count: 10 }
    batch: { maxSize: "lots" }
processors:
  - id: keep
    command: [node, ${JSON.stringify(serviceMain("@flow/processor-filter"))}]
    inputs: [gen]
    config: { expression: "data.seq >" }
consumers:
  - id: rec
    command: [node, ${JSON.stringify(RECORDING_CONSUMER)}]
    inputs: [kept]
    config: { path: out.txt, colour: blue }
`,
    );
    const result = await runFlow(["validate", file], { cwd: dir.path });
    expect(result.code).toBe(1);
    const errors = result.stderr.split("\n").filter((line) => line.startsWith("error: "));
    expect(errors).toHaveLength(4);
    expect(result.stderr).toContain(
      `${file}:8:23: source "gen" batch.maxSize: found "lots", expected an integer`,
    );
    expect(result.stderr).toContain(`${file}:17:14: consumer "rec" reads from "kept", which is no stage`);
    expect(result.stderr).toMatch(
      new RegExp(`${file}:13:27: processor "keep" config /expression: JSONata syntax error`),
    );
    expect(result.stderr).toContain(
      `${file}:18:38: consumer "rec" config /colour: unknown property "colour"`,
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it("reports a YAML syntax error with its position", async () => {
    const file = dir.file("broken.yaml", "apiVersion: flow/v1\nkind: Pipeline\nsources: [\n");
    const result = await runFlow(["validate", file], { cwd: dir.path });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`${file}:\\d+:\\d+: `));
  });

  it("passes a good pipeline after negotiating with its services", async () => {
    const file = dir.file(
      "good.yaml",
      `apiVersion: flow/v1
kind: Pipeline
metadata: { name: good }
sources:
  - id: gen
    command: [node, ${JSON.stringify(serviceMain("@flow/source-generator"))}]
    config: { count: 10 }
consumers:
  - id: rec
    command: [node, ${JSON.stringify(RECORDING_CONSUMER)}]
    inputs: [gen]
    config: { path: out.txt }
`,
    );
    const result = await runFlow(["validate", file], { cwd: dir.path });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("valid (2 stages, services negotiated)");
  });
});
