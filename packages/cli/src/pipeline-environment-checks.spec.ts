import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadPipeline, openStateStore } from "@flow/core";
import { checkDeadLetterPath, checkStateStore } from "./pipeline-environment-checks";

const BODY = `sources: [{ id: s, use: a }]\nconsumers: [{ id: c, use: b, inputs: [s] }]\n`;

/** A port the OS handed out and that nothing listens on any more. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("checks of what a pipeline file names outside itself", () => {
  const dir = mkdtempSync(join(tmpdir(), "flow-cli-environment-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const pipeline = (name: string, head: string) => {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, `apiVersion: flow/v1\nkind: Pipeline\nmetadata: { name: ${name} }\n${head}${BODY}`);
    return { file, pipeline: loadPipeline(file, { env: {} }) };
  };

  it("reports an unwritable deadLetters.path at the line and column that write it", () => {
    writeFileSync(join(dir, "blocker"), "");
    const { file, pipeline: p } = pipeline("dead", "deadLetters:\n  path: blocker/dead.jsonl\n");
    const error = checkDeadLetterPath(p);
    expect(error?.message).toBe(
      `${file}:5:9: deadLetters.path: cannot write ${join(dir, "blocker/dead.jsonl")}: ${join(dir, "blocker")} is a file, not a folder`,
    );
    expect(error?.hint).toMatch(/folder Flow can write to/);
    expect(error?.exitCode).toBe(2);
  });

  it("accepts the default dead-letter file and the default state file without creating either", async () => {
    const { pipeline: p } = pipeline("defaults", "");
    expect(checkDeadLetterPath(p)).toBeUndefined();
    expect(await checkStateStore(p)).toBeUndefined();
    expect(existsSync(join(dir, ".flow"))).toBe(false);
  });

  it("reports a SQLite state file that cannot be created at state.url", async () => {
    const { file, pipeline: p } = pipeline("state", 'state: { url: "sqlite:blocker/state.db" }\n');
    expect((await checkStateStore(p))?.message).toBe(
      `${file}:4:15: state.url: cannot write ${join(dir, "blocker/state.db")}: ${join(dir, "blocker")} is a file, not a folder`,
    );
  });

  it("opens a SQLite state file that exists, and reports one that is not a database", async () => {
    const good = join(dir, "good.db");
    await (await openStateStore(`sqlite:${good}`, { baseDir: dir })).close();
    expect(
      await checkStateStore(pipeline("good", `state: { url: "sqlite:good.db" }\n`).pipeline),
    ).toBeUndefined();
    writeFileSync(
      join(dir, "bad.db"),
      "this is not a database, it is text that fills the first page. ".repeat(80),
    );
    const { file, pipeline: bad } = pipeline("bad", `state: { url: "sqlite:bad.db" }\n`);
    expect((await checkStateStore(bad))?.message).toMatch(
      new RegExp(`^${file}:4:15: state\\.url: .*bad\\.db`),
    );
  });

  it("reports a PostgreSQL server nobody answers for at state.url", async () => {
    const port = await closedPort();
    const { file, pipeline: p } = pipeline(
      "pg",
      `state: { url: "postgres://flow@127.0.0.1:${port}/flow" }\n`,
    );
    const error = await checkStateStore(p);
    expect(error?.message).toMatch(new RegExp(`^${file}:4:15: state\\.url: .*127\\.0\\.0\\.1:${port}`));
  });
});
