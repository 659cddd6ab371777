import { join } from "node:path";
import { dropSchema, uniqueTestSchema, urlWithSchema, withPostgres } from "@flow/testing";
import Database from "better-sqlite3";
import { runFlow, serviceMain } from "./test-support/flow-cli";
import { tempDir } from "./test-support/temp-dir";

const pipeline = (dir: string, stateUrl: string, count: number) => `
apiVersion: flow/v1
kind: Pipeline
metadata: { name: e2e-orders }
state: { url: ${JSON.stringify(stateUrl)} }
defaults: { batch: { maxSize: 50 }, inFlight: 4 }
sources:
  - id: orders
    command: [node, ${JSON.stringify(serviceMain("@flow/source-generator"))}]
    config: { count: ${count}, payload: { template: { seq: "{{seq}}", amount: "{{seq}}" } } }
processors:
  - id: even
    command: [node, ${JSON.stringify(serviceMain("@flow/processor-filter"))}]
    inputs: [orders]
    config: { expression: "data.seq % 2 = 0" }
consumers:
  - id: db
    command: [node, ${JSON.stringify(serviceMain("@flow/consumer-sqlite"))}]
    inputs: [even]
    config: { path: ${JSON.stringify(join(dir, "out.db"))}, table: orders }
`;

/** The same pipeline, the same checks, whichever state store keeps its checkpoints. */
function endToEnd(storeName: string, stateUrl: () => string): void {
  describe(`flow run end to end over spawned services (${storeName} state store)`, () => {
    const dir = tempDir("e2e");
    afterAll(() => dir.remove());

    it("writes every expected row to SQLite and commits the source's checkpoint", async () => {
      const file = dir.file("pipeline.yaml", pipeline(dir.path, stateUrl(), 3000));
      const result = await runFlow(["run", file, "--json"], { cwd: dir.path });
      expect(result.code).toBe(0);
      const summary = JSON.parse(result.stdout);
      expect(summary.status).toBe("succeeded");

      const db = new Database(join(dir.path, "out.db"), { readonly: true });
      const ids = (db.prepare("select id from orders order by id").all() as { id: string }[]).map(
        (row) => row.id,
      );
      db.close();
      const expected = Array.from({ length: 1500 }, (_, i) => `orders-${(i + 1) * 2}`).sort();
      expect(ids).toEqual(expected);

      const listed = await runFlow(["checkpoints", "list", "--json", "-f", file], { cwd: dir.path });
      const checkpoints = JSON.parse(listed.stdout);
      expect(checkpoints).toHaveLength(1);
      expect(checkpoints[0]).toMatchObject({
        pipeline: "e2e-orders",
        sourceId: "orders",
        runId: summary.runId,
        description: "next sequence 3001",
      });
    });

    it("resumes after the committed checkpoint: a second run moves nothing", async () => {
      const file = join(dir.path, "pipeline.yaml");
      const result = await runFlow(["run", file, "--json"], { cwd: dir.path });
      expect(result.code).toBe(0);
      const summary = JSON.parse(result.stdout);
      expect(summary.stages.find((stage: { stageId: string }) => stage.stageId === "orders").eventsOut).toBe(
        0,
      );
    });

    it("rewinds with `flow checkpoints reset`, and the idempotent sink keeps one row per event", async () => {
      const file = join(dir.path, "pipeline.yaml");
      const reset = await runFlow(["checkpoints", "reset", "-f", file], { cwd: dir.path });
      expect(reset.stdout).toContain("reset 1 checkpoint(s) of e2e-orders");
      const result = await runFlow(["run", file, "--json"], { cwd: dir.path });
      expect(
        JSON.parse(result.stdout).stages.find((stage: { stageId: string }) => stage.stageId === "orders")
          .eventsOut,
      ).toBe(3000);
      const db = new Database(join(dir.path, "out.db"), { readonly: true });
      expect(db.prepare("select count(*) as n from orders").get()).toEqual({ n: 1500 });
      db.close();
    });
  });
}

endToEnd("SQLite", () => "sqlite:state.db");

withPostgres((url) => {
  const schema = uniqueTestSchema("flow_e2e");
  afterAll(() => dropSchema(url, schema));
  endToEnd("PostgreSQL", () => urlWithSchema(url, schema));
});
