import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { type MachineRequirement, withMachineRequirement } from "@flow/testing";
import Database from "better-sqlite3";
import { FlowProcess, serviceMain } from "./test-support/flow-cli";
import { tempDir } from "./test-support/temp-dir";

const REDIS_URL = process.env.FLOW_TEST_REDIS_URL || "redis://127.0.0.1:6379";

/** redis-cli against the test server (the e2e package has no Redis client of its own). */
function redisCli(...args: string[]): string {
  return execFileSync("redis-cli", ["-u", REDIS_URL, ...args], { encoding: "utf8", timeout: 10_000 }).trim();
}

function redisAnswers(): MachineRequirement {
  try {
    const answer = redisCli("PING");
    return answer === "PONG" ? { available: true } : { available: false, reason: answer };
  } catch (error) {
    return { available: false, reason: (error as Error).message };
  }
}

withMachineRequirement(`Redis at ${REDIS_URL} (and redis-cli)`, redisAnswers(), "start redis-server", () => {
  describe("generator -> consumer-redis -> a Redis stream -> source-redis -> SQLite", () => {
    const dir = tempDir("redis");
    const stream = `flow-e2e:${process.pid}:${randomBytes(4).toString("hex")}`;
    afterAll(() => {
      redisCli("DEL", stream);
      dir.remove();
    });

    it("delivers every event exactly once to the idempotent sink, also when the source is SIGKILLed mid-run", async () => {
      const total = 20_000;
      const db = join(dir.path, "out.db");
      const file = dir.file(
        "pipeline.yaml",
        `
apiVersion: flow/v1
kind: Pipeline
metadata: { name: redis-round-trip }
defaults: { batch: { maxSize: 200 }, inFlight: 4, restart: { initialDelayMs: 50 } }
sources:
  - id: gen
    command: [node, ${JSON.stringify(serviceMain("@flow/source-generator"))}]
    config: { count: ${total}, rate: 5000 }
  - id: from-redis
    command: [node, ${JSON.stringify(join(__dirname, "..", "..", "..", "sources", "redis", "dist", "main.js"))}]
    config: { url: ${JSON.stringify(REDIS_URL)}, stream: ${JSON.stringify(stream)}, group: e2e, createGroup: true, blockMs: 200 }
consumers:
  - id: to-redis
    command: [node, ${JSON.stringify(join(__dirname, "..", "..", "..", "consumers", "redis", "dist", "main.js"))}]
    inputs: [gen]
    config: { url: ${JSON.stringify(REDIS_URL)}, stream: ${JSON.stringify(stream)} }
  - id: db
    command: [node, ${JSON.stringify(serviceMain("@flow/consumer-sqlite"))}]
    inputs: [from-redis]
    config: { path: ${JSON.stringify(db)}, table: events }
`,
      );
      const run = new FlowProcess(["run", file], { cwd: dir.path });
      const started = await run.waitForLog(/"stage":"from-redis".*"msg":"service started"/);
      const pid = (JSON.parse(started) as { pid: number }).pid;
      await run.waitForLog(/"stageId":"db","eventsIn":\d+,"eventsOut":[1-9].*"msg":"progress"/);
      process.kill(pid, "SIGKILL");
      await run.waitForLog(/"stage":"from-redis".*"msg":"service restarted"/);

      // The Redis source never ends by itself: stop the run once the sink holds every event.
      while (rowCounts(db).uniq < total) await new Promise((resolve) => setTimeout(resolve, 100));
      run.kill("SIGTERM");
      const result = await run.wait();
      expect(result.code).toBe(130);

      expect(rowCounts(db)).toEqual({ rows: total, uniq: total });
      expect(Number(redisCli("XLEN", stream))).toBe(total);
      const ids = new Set(
        (new Database(db, { readonly: true }).prepare("select id from events").all() as { id: string }[]).map(
          (row) => row.id,
        ),
      );
      for (let seq = 1; seq <= total; seq += 997) expect(ids.has(`gen-${seq}`)).toBe(true);
    });
  });
});

function rowCounts(path: string): { rows: number; uniq: number } {
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    return db.prepare("select count(*) as rows, count(distinct id) as uniq from events").get() as {
      rows: number;
      uniq: number;
    };
  } catch {
    return { rows: 0, uniq: 0 };
  } finally {
    db?.close();
  }
}
