import { appendFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { runFlow, serviceMain } from "./test-support/flow-cli";
import { tempDir } from "./test-support/temp-dir";

/** `count` JSON lines tagged `tag`: files with the same count and a same-length tag have the same size. */
const lines = (count: number, tag: string, from = 0): string =>
  Array.from({ length: count }, (_, i) => `${JSON.stringify({ n: from + i, tag })}\n`).join("");

/** Another file takes the path: written beside it, then renamed over it, as editors and exports do. */
function renameOver(path: string, content: string): void {
  writeFileSync(`${path}.new`, content);
  renameSync(`${path}.new`, path);
}

describe("@flow/source-file when its file is replaced or appended to between runs (into @flow/consumer-sqlite)", () => {
  const dir = tempDir("file-replaced");
  afterAll(() => dir.remove());

  /** A pipeline reading `<name>.jsonl` into the table `events` of `<name>.db`, both in the test's folder. */
  function pipeline(name: string, replacedFile?: "fail"): { file: string; input: string; rows(): Row[] } {
    const input = join(dir.path, `${name}.jsonl`);
    const db = join(dir.path, `${name}.db`);
    const policy = replacedFile ? `, replacedFile: ${replacedFile}` : "";
    const file = dir.file(
      `${name}.yaml`,
      `
apiVersion: flow/v1
kind: Pipeline
metadata: { name: ${name} }
defaults: { batch: { maxSize: 100 }, restart: { maxRestarts: 1, initialDelayMs: 50 } }
sources:
  - id: lines
    command: [node, ${JSON.stringify(serviceMain("@flow/source-file"))}]
    config: { path: ${JSON.stringify(input)}${policy} }
consumers:
  - id: db
    command: [node, ${JSON.stringify(serviceMain("@flow/consumer-sqlite"))}]
    inputs: [lines]
    config: { path: ${JSON.stringify(db)}, table: events }
`,
    );
    const rows = (): Row[] => {
      const database = new Database(db, { readonly: true });
      try {
        return database.prepare("select id, data from events order by rowid").all() as Row[];
      } finally {
        database.close();
      }
    };
    return { file, input, rows };
  }
  interface Row {
    id: string;
    data: string;
  }
  const tags = (rows: Row[]): string[] => rows.map((row) => JSON.parse(row.data).tag);

  it("reads a same-size replacement from its start: every new event lands, with new ids, and a warning is logged", async () => {
    const { file, input, rows } = pipeline("replaced");
    writeFileSync(input, lines(1000, "old"));
    expect((await runFlow(["run", file], { cwd: dir.path })).code).toBe(0);
    const before = rows();
    expect(before).toHaveLength(1000);

    renameOver(input, lines(1000, "new"));
    const second = await runFlow(["run", file], { cwd: dir.path });
    expect(second.code).toBe(0);
    const after = rows();
    expect(after).toHaveLength(2000);
    expect(tags(after.slice(1000))).toEqual(Array(1000).fill("new"));
    const oldIds = new Set(before.map((row) => row.id));
    expect(after.slice(1000).filter((row) => oldIds.has(row.id))).toEqual([]);
    const warning = second.stderr
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line))
      .find((record) => record.stage === "lines" && /was replaced/.test(record.msg));
    expect(warning).toMatchObject({
      level: 40,
      path: input,
      msg: expect.stringMatching(
        /was replaced since it was read up to byte \d+ .*reading the new file from its start/,
      ),
    });
  });

  it("resumes a file that was only appended to: exactly the appended events arrive, none twice, none torn", async () => {
    const { file, input, rows } = pipeline("appended");
    writeFileSync(input, lines(500, "first"));
    expect((await runFlow(["run", file], { cwd: dir.path })).code).toBe(0);
    expect(rows()).toHaveLength(500);

    appendFileSync(input, lines(300, "appended", 500));
    const second = await runFlow(["run", file], { cwd: dir.path });
    expect(second.code).toBe(0);
    const after = rows();
    expect(after.map((row) => JSON.parse(row.data).n)).toEqual(Array.from({ length: 800 }, (_, i) => i));
    expect(tags(after.slice(500))).toEqual(Array(300).fill("appended"));
    expect(new Set(after.map((row) => row.id)).size).toBe(800);
    expect(second.stderr).not.toMatch(/was (replaced|truncated)/);
  });

  it("with replacedFile: fail, a replaced file fails the run with a message naming it", async () => {
    const { file, input, rows } = pipeline("strict", "fail");
    writeFileSync(input, lines(200, "old"));
    expect((await runFlow(["run", file], { cwd: dir.path })).code).toBe(0);

    renameOver(input, lines(200, "new"));
    const second = await runFlow(["run", file], { cwd: dir.path });
    expect(second.code).not.toBe(0);
    expect(second.code).not.toBeNull();
    expect(second.stderr).toContain(`${input} was replaced since it was read up to byte`);
    expect(second.stderr).toContain('replacedFile is \\"fail\\"');
    expect(second.stderr).toMatch(/error: .*was replaced since it was read up to byte/);
    expect(second.stderr).not.toMatch(/\n\s+at /);
    expect(tags(rows())).toEqual(Array(200).fill("old"));
  });
});
