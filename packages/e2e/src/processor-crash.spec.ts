import { join } from "node:path";
import Database from "better-sqlite3";
import { FlowProcess, runFlow, serviceMain } from "./test-support/flow-cli";
import { tempDir } from "./test-support/temp-dir";

describe("a processor killed with SIGKILL mid-run", () => {
  const dir = tempDir("crash");
  afterAll(() => dir.remove());

  it("is restarted, its unanswered batches are sent again, and every event lands exactly once", async () => {
    const total = 60_000;
    const file = dir.file(
      "pipeline.yaml",
      `
apiVersion: flow/v1
kind: Pipeline
metadata: { name: crash }
defaults: { batch: { maxSize: 100 }, inFlight: 8, restart: { initialDelayMs: 50 } }
sources:
  - id: gen
    command: [node, ${JSON.stringify(serviceMain("@flow/source-generator"))}]
    config: { count: ${total}, rate: 15000 }
processors:
  - id: pass
    command: [node, ${JSON.stringify(serviceMain("@flow/processor-filter"))}]
    inputs: [gen]
    config: { expression: "true" }
consumers:
  - id: db
    command: [node, ${JSON.stringify(serviceMain("@flow/consumer-sqlite"))}]
    inputs: [pass]
    config: { path: ${JSON.stringify(join(dir.path, "out.db"))}, table: events }
`,
    );
    const run = new FlowProcess(["run", file], { cwd: dir.path });
    const started = await run.waitForLog(/"stage":"pass".*"msg":"service started"/);
    const pid = (JSON.parse(started) as { servicePid: number }).servicePid;
    await run.waitForLog(/"stageId":"db","eventsIn":\d+,"eventsOut":[1-9].*"msg":"progress"/);
    process.kill(pid, "SIGKILL");
    const result = await run.wait();

    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/"stage":"pass".*"msg":"service restarted"/);
    const db = new Database(join(dir.path, "out.db"), { readonly: true });
    const { rows, uniq } = db
      .prepare("select count(*) as rows, count(distinct id) as uniq from events")
      .get() as {
      rows: number;
      uniq: number;
    };
    db.close();
    expect(rows).toBe(total);
    expect(uniq).toBe(total);

    const status = JSON.parse((await runFlow(["status", "--json", "-f", file], { cwd: dir.path })).stdout);
    const pass = status.runs[0].stages.find((stage: { stageId: string }) => stage.stageId === "pass");
    expect(pass.restarts).toBe(1);
  });
});
