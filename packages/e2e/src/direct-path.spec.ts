import { join } from "node:path";
import Database from "better-sqlite3";
import { DIRECT_PATH_ON, FlowProcess, serviceMain } from "./test-support/flow-cli";
import { tempDir } from "./test-support/temp-dir";

// The suite runs twice (jest.direct-path-off.config.js): these tests say what each way must show.
const directPathOn = DIRECT_PATH_ON;

/** gen -> pass -> db; `rate` 0: the generator goes as fast as the sink takes, so every stage holds batches. */
function pipelineFile(dir: ReturnType<typeof tempDir>, name: string, total: number, rate = 15000): string {
  return dir.file(
    `${name}.yaml`,
    `
apiVersion: flow/v1
kind: Pipeline
metadata: { name: ${name} }
defaults: { batch: { maxSize: 100 }, inFlight: 8, restart: { initialDelayMs: 50 } }
sources:
  - id: gen
    command: [node, ${JSON.stringify(serviceMain("@flow/source-generator"))}]
    config: { count: ${total}, rate: ${rate} }
processors:
  - id: pass
    command: [node, ${JSON.stringify(serviceMain("@flow/processor-filter"))}]
    inputs: [gen]
    config: { expression: "true" }
consumers:
  - id: db
    command: [node, ${JSON.stringify(serviceMain("@flow/consumer-sqlite"))}]
    inputs: [pass]
    config: { path: ${JSON.stringify(join(dir.path, `${name}.db`))}, table: events }
`,
  );
}

function rowsIn(path: string): { rows: number; uniq: number } {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare("select count(*) as rows, count(distinct id) as uniq from events").get() as {
      rows: number;
      uniq: number;
    };
  } finally {
    db.close();
  }
}

describe(`the direct data path (${directPathOn ? "on" : "off"})`, () => {
  const dir = tempDir("direct-path");
  afterAll(() => dir.remove());

  it("is used on every edge of a pipeline of SDK services, unless switched off", async () => {
    const total = 5_000;
    const file = pipelineFile(dir, "direct-edges", total);
    const run = new FlowProcess(["run", file], { cwd: dir.path });
    const result = await run.wait();
    expect(result.code).toBe(0);
    const line = result.stderr.split("\n").find((candidate) => /"msg":"direct data path/.test(candidate));
    expect(line).toBeDefined();
    const logged = JSON.parse(line as string) as { msg: string; edges?: string[] };
    if (directPathOn) expect(logged.edges).toEqual(["gen -> pass", "pass -> db"]);
    else expect(logged.msg).toBe("direct data path off: every batch goes through Core");
    expect(rowsIn(join(dir.path, "direct-edges.db"))).toEqual({ rows: total, uniq: total });
  });

  it("loses nothing when the consumer holding batches sent by reference is killed with SIGKILL", async () => {
    const total = 200_000;
    // Unpaced: the consumer is the slowest stage, so it nearly always holds batches when it dies.
    const file = pipelineFile(dir, "consumer-kill", total, 0);
    const run = new FlowProcess(["run", file], { cwd: dir.path });
    const started = await run.waitForLog(/"stage":"db".*"msg":"service started"/);
    const pid = (JSON.parse(started) as { servicePid: number }).servicePid;
    await run.waitForLog(/"stageId":"db","eventsIn":\d+,"eventsOut":[1-9].*"msg":"progress"/);
    process.kill(pid, "SIGKILL");
    const result = await run.wait();

    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/"stage":"db".*"msg":"service restarted"/);
    // The sink's table is keyed by event id: every event is there, each once.
    expect(rowsIn(join(dir.path, "consumer-kill.db"))).toEqual({ rows: total, uniq: total });
    // On the direct path the killed consumer held batches Core had only references to, or batches
    // pushed to it that Core had no reference to yet (a loaded machine can drain it between two):
    // either way the sources re-read them from their checkpoints. Through Core, Core replays what
    // it holds.
    const restarted = /"msg":"direct data path: batches Core does not hold were lost/.test(result.stderr);
    expect(restarted).toBe(directPathOn);
    // The run's summary says so, and what it means.
    if (directPathOn) expect(result.stderr).toMatch(/\ndata plane restarted [1-9]\d* time\(s\): /);
    else expect(result.stderr).not.toMatch(/data plane restarted/);
  });
});
