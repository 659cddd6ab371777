import { readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { runFlow, serviceMain } from "./test-support/flow-cli";
import { tempDir } from "./test-support/temp-dir";

const REPOSITORY = join(__dirname, "..", "..", "..");

/**
 * The code blocks of a README that start with a `# <file>.yaml` comment line: the files a
 * README's `flow test` example is made of, by name.
 */
function namedYamlBlocks(readme: string): Map<string, string> {
  const blocks = new Map<string, string>();
  for (const match of readFileSync(readme, "utf8").matchAll(/```yaml\n# ([\w.-]+\.ya?ml)\n([\s\S]*?)```/g))
    blocks.set(match[1] as string, match[2] as string);
  return blocks;
}

const pipeline = `apiVersion: flow/v1
kind: Pipeline
metadata: { name: orders }
sources:
  - id: orders
    command: [node, ${JSON.stringify(serviceMain("@flow/source-generator"))}]
    config: { count: 1 }
processors:
  - id: big
    command: [node, ${JSON.stringify(serviceMain("@flow/processor-filter"))}]
    inputs: [orders]
    config: { expression: "data.total > 100" }
consumers:
  - id: out
    command: [node, ${JSON.stringify(serviceMain("@flow/consumer-file"))}]
    inputs: [big]
    config: { path: out.jsonl }
`;

const passing = `tests:
  - name: keeps the orders over 100
    input:
      events:
        - { id: o1, data: { total: 150 }, traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01 }
        - { id: o2, data: { total: 20 } }
    expect:
      big:
        count: 1
        contains: [{ id: o1, traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01 }]
      out:
        equal:
          - specversion: "1.0"
            id: o1
            source: flow-test
            type: flow.test
            datacontenttype: application/json
            traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01
            data: { total: 150 }
  - name: events from a file, and a dead letter with its reason
    input: { file: events.jsonl }
    expect:
      orders: { count: 2 }
      big:
        match: { "$[*].id": [f1] }
        deadLetters: [{ reason: "the payload is text/plain, not JSON", event: { id: f2 } }]
`;

const failing = `pipeline: orders.yaml
tests:
  - name: expects the small order too
    input:
      events:
        - { id: o1, data: { total: 150 } }
        - { id: o2, data: { total: 20 } }
    expect:
      big:
        count: 2
        contains: [{ id: o2 }]
        match: { "$[0].data.total": 151 }
        deadLetters: [{ reason: "no such reason" }]
  - name: still passes
    input: { events: [{ data: { total: 101 } }] }
    expect:
      out: { count: 1 }
`;

describe("flow test", () => {
  const dir = tempDir("flow-test");
  afterAll(() => dir.remove());
  dir.file("orders.yaml", pipeline);
  dir.file(
    "events.jsonl",
    `${JSON.stringify({ specversion: "1.0", id: "f1", source: "file", type: "order", data: { total: 300 } })}\n${JSON.stringify({ specversion: "1.0", id: "f2", source: "file", type: "order", datacontenttype: "text/plain", data: "300" })}\n`,
  );

  it("passes a test file whose expectations hold, through the real filter service (exit 0)", async () => {
    dir.file("orders.test.yaml", passing);
    const result = await runFlow(["test", "orders.yaml"], { cwd: dir.path });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ {2}ok {3}keeps the orders over 100 \(/m);
    expect(result.stdout).toMatch(/^ {2}ok {3}events from a file, and a dead letter with its reason \(/m);
    expect(result.stdout).toContain("2 test(s) in 1 file(s): 2 passed, 0 failed");
  }, 60_000);

  it("fails with a readable diff per expectation that does not hold (exit 1), and says the same in --json", async () => {
    const file = dir.file("wrong.test.yaml", failing);
    const result = await runFlow(["test", file], { cwd: dir.path });
    expect(result.code).toBe(1);
    const report = result.stdout.replace(/\(\d+\.\d+s\)/g, "(…)");
    expect(report).toBe(
      `${file} (pipeline orders.yaml)
  FAIL expects the small order too (…)
       stage big, count: expected 2 event(s), got 1
       stage big, contains: no event matches contains[0]; the closest is event 1 (id "o1")
         - expected  + actual
           {
         -   "id": "o2"
         +   "id": "o1"
           }
       stage big, match: $[0].data.total does not match
         - expected  + actual
         - 151
         + 150
       stage big, deadLetters: expected 1 dead letter(s), got 0
         - expected  + actual
         - [
         -   {
         -     "reason": "no such reason"
         -   }
         - ]
         + []
  ok   still passes (…)
2 test(s) in 1 file(s): 1 passed, 1 failed
`,
    );

    const json = await runFlow(["test", file, "--json"], { cwd: dir.path });
    expect(json.code).toBe(1);
    const summary = JSON.parse(json.stdout);
    expect(summary).toMatchObject({ passed: false, tests: 2, failed: 1 });
    expect(summary.files[0].tests[0].failures.map((f: { check: string }) => f.check)).toEqual([
      "count",
      "contains",
      "match",
      "deadLetters",
    ]);
    expect(summary.files[0].tests[0].failures[2]).toMatchObject({ expected: 151, actual: 150 });
  }, 60_000);

  it("refuses a test file naming stages the pipeline does not have, with line:col and a did-you-mean (exit 2)", async () => {
    const file = dir.file(
      "typo.test.yaml",
      "pipeline: orders.yaml\ntests:\n  - name: t\n    input: { source: order, events: [{}] }\n    expect: { bigg: { count: 1 } }\n",
    );
    const result = await runFlow(["test", file], { cwd: dir.path });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      `${file}:4:22: ${join(dir.path, "orders.yaml")} has no source "order"; did you mean "orders"?`,
    );
    expect(result.stderr).toContain(
      `${file}:5:15: ${join(dir.path, "orders.yaml")} has no stage "bigg"; did you mean "big"?`,
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);

  describe.each([
    ["processors/filter/README.md", "big-orders"],
    ["processors/map/README.md", "order-summaries"],
  ])(
    "the example in %s",
    (readme, name) => {
      it("passes", async () => {
        const blocks = namedYamlBlocks(join(REPOSITORY, readme));
        expect([...blocks.keys()]).toEqual([`${name}.yaml`, `${name}.test.yaml`]);
        // Its `use:` lines name packages of this workspace: a workspace file in the temporary folder lists them.
        const example = tempDir("readme-test");
        try {
          writeFileSync(
            join(example.path, "pnpm-workspace.yaml"),
            `packages:\n  - ${relative(example.path, join(REPOSITORY, "processors"))}/*\n`,
          );
          for (const [file, text] of blocks) example.file(file, text);
          const result = await runFlow(["test", `${name}.yaml`], { cwd: example.path });
          expect(result.stdout).toContain("0 failed");
          expect(result.code).toBe(0);
        } finally {
          example.remove();
        }
      });
    },
    60_000,
  );
});
