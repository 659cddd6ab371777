import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UserErrors } from "@flow/errors";
import { readPipelineTestFile, testFileOf } from "./pipeline-test-file";

const dir = mkdtempSync(join(tmpdir(), "flow-pipeline-test-file-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, "orders.yaml"), "apiVersion: flow/v1\n");

function problems(text: string, name = "orders.test.yaml"): string[] {
  const file = join(dir, name);
  writeFileSync(file, text);
  try {
    readPipelineTestFile(file);
  } catch (error) {
    if (error instanceof UserErrors) return error.errors.map((e) => e.message.replace(`${dir}/`, ""));
    throw error;
  }
  return [];
}

describe("a pipeline test file", () => {
  it("is <pipeline>.test.yaml beside the pipeline, and reads events inline and from a file", () => {
    expect(testFileOf(join(dir, "orders.yaml"))).toBe(join(dir, "orders.test.yaml"));
    writeFileSync(
      join(dir, "events.jsonl"),
      '{"specversion":"1.0","id":"x","source":"s","type":"t","data":{"n":1},"traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}\n',
    );
    const file = join(dir, "orders.test.yaml");
    writeFileSync(
      file,
      `tests:
  - name: inline and file
    input:
      - events: [{ data: { total: 5 } }, { id: b, type: order, data: text, datacontenttype: text/plain }]
      - file: events.jsonl
    expect:
      big: { count: 1 }
`,
    );
    const read = readPipelineTestFile(file);
    expect(read.pipelineFile).toBe(join(dir, "orders.yaml"));
    const [inline, fromFile] = read.tests[0]?.inputs ?? [];
    expect(inline?.events.map((e) => [e.id, e.source, e.type, e.datacontenttype, e.data.toString()])).toEqual(
      [
        ["1", "flow-test", "flow.test", "application/json", '{"total":5}'],
        ["b", "flow-test", "order", "text/plain", "text"],
      ],
    );
    expect(fromFile?.events[0]?.extensions.traceparent?.value).toEqual({
      $case: "stringValue",
      value: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    });
    expect(read.tests[0]?.expectations).toMatchObject([{ stage: "big", count: 1, location: { line: 7 } }]);
  });

  it("reports every problem at once with file:line:col", () => {
    expect(
      problems(`pipeline: missing.yaml
tests:
  - name: a
    input: { events: [{ time: yesterday }], file: x.jsonl }
    expect: { big: { cout: 1 } }
  - name: a
    input: { file: nowhere.jsonl }
    expect: { big: { count: 1 } }
`),
    ).toEqual([
      "orders.test.yaml:4:12: an input needs either `events:` (a list) or `file:` (a file of events), not both",
      'orders.test.yaml:5:22: unknown field "cout"',
    ]);
    expect(
      problems(
        `tests:
  - name: a
    input: { events: [{ time: yesterday }] }
    expect: { big: { count: 1 } }
  - name: a
    input: { file: nowhere.jsonl }
    expect: { big: { count: 1 } }
`,
        "nope.test.yaml",
      ),
    ).toEqual([
      expect.stringMatching(/^nope\.test\.yaml:1:1: the pipeline under test, .*nope\.yaml, does not exist$/),
      expect.stringMatching(/^nope\.test\.yaml:3:23: event 1: time: /),
      'nope.test.yaml:5:11: a second test named "a" (the first is test 1)',
      expect.stringMatching(
        /^nope\.test\.yaml:6:20: cannot read the events file .*nowhere\.jsonl \(ENOENT\)$/,
      ),
    ]);
  });
});
