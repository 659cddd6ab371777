import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import {
  describeWithTmpfs,
  dropSchema,
  fillFileSystem,
  type MountedTmpfs,
  mountTmpfs,
  startTcpProxy,
  type TcpProxy,
  uniqueTestSchema,
  urlWithSchema,
  withPostgres,
} from "@flow/testing";
import { FlowProcess, RECORDING_CONSUMER, runFlow, serviceMain } from "./test-support/flow-cli";
import { tempDir } from "./test-support/temp-dir";

/** Generated events into the recording consumer; `extra` goes at the top level of the file. */
function pipeline(name: string, count: number, rate: number, out: string, extra: string): string {
  return `
apiVersion: flow/v1
kind: Pipeline
metadata: { name: ${name} }
${extra}
defaults: { batch: { maxSize: 10 }, inFlight: 2 }
sources:
  - id: gen
    command: [node, ${JSON.stringify(serviceMain("@flow/source-generator"))}]
    config: { count: ${count}, rate: ${rate} }
consumers:
  - id: rec
    command: [node, ${JSON.stringify(RECORDING_CONSUMER)}]
    inputs: [gen]
    config: { path: ${JSON.stringify(out)} }
`;
}

function lines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, "utf8").trim().split("\n").filter(Boolean) : [];
}

const WRITING = /"stageId":"rec","eventsIn":\d+,"eventsOut":[1-9].*"msg":"progress"/;

withPostgres((serverUrl) => {
  describe("the PostgreSQL state store goes away mid-run (a proxy the test cuts)", () => {
    const dir = tempDir("store-outage");
    const schema = uniqueTestSchema("flow_outage");
    let proxy: TcpProxy;
    beforeAll(async () => {
      const server = new URL(serverUrl);
      proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port || 5432) });
    });
    afterAll(async () => {
      await proxy.close();
      await dropSchema(serverUrl, schema);
      dir.remove();
    });

    const stateUrl = () => {
      const url = new URL(urlWithSchema(serverUrl, schema));
      url.port = String(proxy.port);
      return url.toString();
    };

    it("waits with its sources paused, carries on when the store is back, and loses nothing", async () => {
      const out = join(dir.path, "outage.txt");
      const total = 6000;
      const file = dir.file(
        "outage.yaml",
        pipeline("outage", total, 2000, out, `state: { url: ${JSON.stringify(stateUrl())} }`),
      );
      const run = new FlowProcess(["run", file, "--json"], { cwd: dir.path });
      await run.waitForLog(/"msg":"source starts"/);
      proxy.cut();
      await run.waitForLog(/state store unreachable/);
      await run.waitForLog(/source paused: its uncommitted window is full/);
      const atPause = lines(out).length;
      // The pause is the absence of reads: give the source time it could have used, then look.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const beforeRestore = lines(out).length;
      // What was in flight when the pause began may still be written (inFlight 2 x 10 events).
      expect(beforeRestore - atPause).toBeLessThanOrEqual(20);
      expect(beforeRestore).toBeLessThan(total);
      proxy.restore();
      await run.waitForLog(/state store reachable again/);
      const result = await run.wait();
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout).status).toBe("succeeded");
      const ids = lines(out);
      expect(new Set(ids).size).toBe(total);
      expect(ids).toHaveLength(total);
      const listed = await runFlow(["checkpoints", "list", "--json", "-f", file], { cwd: dir.path });
      expect(JSON.parse(listed.stdout)[0].description).toBe(`next sequence ${total + 1}`);
    }, 90_000);

    it("stops cleanly past state.unreachableLimitMs, naming the store, and the next run resumes", async () => {
      const out = join(dir.path, "limit.txt");
      const total = 4000;
      const state = `state: { url: ${JSON.stringify(stateUrl())}, unreachableLimitMs: 1500 }`;
      const file = dir.file("limit.yaml", pipeline("outage-limit", total, 2000, out, state));
      const run = new FlowProcess(["run", file], { cwd: dir.path });
      await run.waitForLog(WRITING);
      proxy.cut();
      const failed = await run.wait();
      proxy.restore();
      expect(failed.code).toBe(1);
      expect(failed.stderr).toMatch(
        /error: the state store postgres:\/\/.* has been unreachable for \d+ s \(limit 1500 ms\)/,
      );
      expect(failed.stderr).toMatch(/hint: the run is resumable/);
      expect(failed.stderr).not.toMatch(/\n\s+at /);

      const again = await runFlow(["run", file, "--json"], { cwd: dir.path });
      expect(again.code).toBe(0);
      const ids = lines(out);
      // At-least-once: what the first run wrote after its last commit is written again.
      expect(new Set(ids).size).toBe(total);
    }, 90_000);
  });
});

describeWithTmpfs("a full disk", () => {
  const dir = tempDir("full-disk");
  let disk: MountedTmpfs;
  beforeEach(() => {
    disk = mountTmpfs(1024 * 1024);
  });
  afterEach(() => disk.unmount());
  afterAll(() => dir.remove());

  it("under the SQLite state file stops the run cleanly, with checkpoints never ahead of the data; after space is freed the rerun loses nothing", async () => {
    const out = join(dir.path, "state-full.txt");
    const total = 4000;
    const stateFile = join(disk.dir, "state.db");
    const file = dir.file(
      "state-full.yaml",
      pipeline("state-full", total, 2000, out, `state: { url: ${JSON.stringify(`sqlite:${stateFile}`)} }`),
    );
    const run = new FlowProcess(["run", file], { cwd: dir.path });
    await run.waitForLog(WRITING);
    const filler = fillFileSystem(disk.dir);
    const failed = await run.wait();
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(stateFile);
    expect(failed.stderr).toMatch(/SQLITE_FULL|disk is full|disk full/);
    expect(failed.stderr).not.toMatch(/\n\s+at /);
    const writtenBefore = lines(out).length;
    rmSync(filler);

    const listed = await runFlow(["checkpoints", "list", "--json", "-f", file], { cwd: dir.path });
    const committed = JSON.parse(listed.stdout)[0];
    // The checkpoint names the next sequence to read: everything before it was written.
    if (committed)
      expect(Number(committed.description.split(" ").at(-1)) - 1).toBeLessThanOrEqual(writtenBefore);

    const again = await runFlow(["run", file, "--json"], { cwd: dir.path });
    expect(again.code).toBe(0);
    expect(new Set(lines(out)).size).toBe(total);
  }, 90_000);

  it("under the dead-letter file stops the run cleanly, and the rerun loses nothing", async () => {
    const kept = join(dir.path, "kept.txt");
    const letters = join(disk.dir, "dead-letters.jsonl");
    const file = dir.file(
      "letters-full.yaml",
      `
apiVersion: flow/v1
kind: Pipeline
metadata: { name: letters-full }
deadLetters: { path: ${JSON.stringify(letters)} }
defaults: { batch: { maxSize: 10 }, inFlight: 2 }
sources:
  - id: gen
    command: [node, ${JSON.stringify(serviceMain("@flow/source-generator"))}]
    config: { count: 2000, rate: 2000 }
processors:
  - id: picky
    command: [node, ${JSON.stringify(serviceMain("@flow/processor-filter"))}]
    inputs: [gen]
    config: { expression: 'data.seq % 10 = 0 ? $error("a tenth") : true' }
consumers:
  - id: rec
    command: [node, ${JSON.stringify(RECORDING_CONSUMER)}]
    inputs: [picky]
    config: { path: ${JSON.stringify(kept)} }
`,
    );
    const filler = fillFileSystem(disk.dir);
    const failed = await runFlow(["run", file], { cwd: dir.path });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(
      new RegExp(`error: cannot (open|write) the dead-letter file ${letters}: the disk is full \\(ENOSPC\\)`),
    );
    expect(failed.stderr).not.toMatch(/\n\s+at /);
    rmSync(filler);

    const again = await runFlow(["run", file, "--json"], { cwd: dir.path });
    expect(again.code).not.toBe(1);
    const deadIds = lines(letters).map((line) => JSON.parse(line).event.id as string);
    const everything = new Set([...lines(kept), ...deadIds]);
    expect(everything.size).toBe(2000);
    expect(new Set(deadIds).size).toBe(200);
    // No torn line: every dead letter parses (lines() above would have thrown).
  }, 90_000);
});
