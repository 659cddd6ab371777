import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  closedPort,
  DIRECT_PATH_ON,
  RECORDING_CONSUMER,
  repositoryCheckout,
  runFlow,
  serviceMain,
} from "./test-support/flow-cli";
import { tempDir } from "./test-support/temp-dir";

describe("flow validate", () => {
  const dir = tempDir("validate");
  const cleanups: (() => void)[] = [() => dir.remove()];
  afterAll(() => {
    for (const cleanup of cleanups) cleanup();
  });

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
    // An invalid file cannot be used: 2, as `flow run` of it exits.
    expect(result.code).toBe(2);
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

    const json = await runFlow(["validate", file, "--json"], { cwd: dir.path });
    expect(json.code).toBe(2);
    const findings = JSON.parse(json.stdout);
    expect(findings).toMatchObject({ file, valid: false, offline: false, stages: 3, exitCode: 2 });
    expect(findings.problems).toHaveLength(4);
    expect(findings.problems).toContainEqual(
      expect.objectContaining({
        file,
        line: 18,
        column: 38,
        message: expect.stringContaining(
          `${file}:18:38: consumer "rec" config /colour: unknown property "colour"`,
        ),
      }),
    );
    expect(json.stderr).not.toMatch(/^error: /m);
  });

  it("says how each edge of a valid pipeline would carry its batches, and why one goes through Core", async () => {
    const file = dir.file(
      "edges.yaml",
      `apiVersion: flow/v1
kind: Pipeline
metadata: { name: edges }
sources:
  - id: gen
    command: [node, ${JSON.stringify(serviceMain("@flow/source-generator"))}]
    config: { count: 10 }
processors:
  - id: keep
    command: [node, ${JSON.stringify(serviceMain("@flow/processor-filter"))}]
    inputs: [gen]
    config: { expression: "true" }
consumers:
  - id: old
    command: [node, ${JSON.stringify(RECORDING_CONSUMER)}]
    inputs: [keep]
    contractMajor: 1
    config: { path: out.txt }
`,
    );
    const result = await runFlow(["validate", file], { cwd: dir.path });
    expect(result.code).toBe(0);
    const directOn = DIRECT_PATH_ON;
    const lines = result.stdout.split("\n").filter((line) => line.startsWith("  "));
    expect(lines).toEqual([
      directOn
        ? "  gen -> keep: direct"
        : expect.stringMatching(/^ {2}gen -> keep: through Core \(the direct data path is off/),
      expect.stringMatching(
        directOn
          ? /^ {2}keep -> old: through Core \("old" does not take part: its service speaks contract v1/
          : /^ {2}keep -> old: through Core \(the direct data path is off/,
      ),
    ]);
    const json = JSON.parse((await runFlow(["validate", file, "--json"], { cwd: dir.path })).stdout);
    expect(json.edges.map((edge: { path: string }) => edge.path)).toEqual([
      directOn ? "direct" : "core",
      "core",
    ]);
  });

  it("a config problem of a valid file exits 1; --json says so on stdout alone", async () => {
    const file = dir.file(
      "config.yaml",
      `apiVersion: flow/v1
kind: Pipeline
metadata: { name: config }
sources:
  - id: gen
    command: [node, ${JSON.stringify(serviceMain("@flow/source-generator"))}]
    config: { count: 10, colour: blue }
consumers:
  - id: rec
    command: [node, ${JSON.stringify(RECORDING_CONSUMER)}]
    inputs: [gen]
    config: { path: out.txt }
`,
    );
    const result = await runFlow(["validate", file, "--json"], { cwd: dir.path });
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({
      valid: false,
      exitCode: 1,
      problems: [{ line: 7, column: 34, message: expect.stringContaining('unknown property "colour"') }],
    });
  });

  it("says where a wrong use:, a missing program or script and an unreachable address are, one line each", async () => {
    const closed = await closedPort();
    // `use:` names packages of the workspace the file is in.
    const checkout = repositoryCheckout("validate-locators");
    cleanups.push(() => checkout.remove());
    const file = join(checkout.path, "locators.yaml");
    writeFileSync(
      file,
      `apiVersion: flow/v1
kind: Pipeline
metadata: { name: locators }
sources:
  - id: gen
    use: "@flow/source-generater"
consumers:
  - id: script
    command: [node, no-such-script.js]
    inputs: [gen]
  - id: program
    command: [no-such-program-for-flow]
    inputs: [gen]
  - id: remote
    address: "127.0.0.1:${closed}"
    inputs: [gen]
`,
    );
    const result = await runFlow(["validate", file], { cwd: checkout.path });
    expect(result.code).toBe(1);
    const errors = result.stderr.split("\n").filter((line) => line.startsWith("error: "));
    expect(errors).toEqual([
      expect.stringMatching(
        /^error: .*locators\.yaml:6:10: use: "@flow\/source-generater" is not a package of the workspace/,
      ),
      expect.stringMatching(
        /^error: .*locators\.yaml:9:14: stage "script": `node no-such-script\.js` exited \(code 1\) before its handshake; its last stderr line: Error: Cannot find module '.*no-such-script\.js'$/,
      ),
      expect.stringMatching(
        /^error: .*locators\.yaml:12:14: stage "program": cannot start `no-such-program-for-flow`: no program "no-such-program-for-flow" on PATH$/,
      ),
      `error: ${file}:15:14: stage "remote": address 127.0.0.1:${closed}: nothing is listening there (connection refused)`,
    ]);
    expect(result.stderr).toContain('hint: did you mean "@flow/source-generator"?');
    expect(result.stderr).not.toMatch(/Node\.js v\d|round_robin|No connection established/);
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
