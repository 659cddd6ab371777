import { readFileSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { createServer } from "node:net";
import { join } from "node:path";
import Database from "better-sqlite3";
import { servicePid, sinkCounts, sinkHolds } from "./test-support/broker-round-trip";
import { FlowProcess, RECORDING_CONSUMER, serviceMain } from "./test-support/flow-cli";
import { tempDir } from "./test-support/temp-dir";

// Webhook senders -> @flow/source-http under `flow run` -> a sink. The senders are real HTTP
// clients in this process that retry every request until it is answered 2xx, as a webhook sender
// does: that retry, and the source answering 2xx only after Core's commit, is the at-least-once.

interface Answer {
  status: number;
  retryAfter: string | undefined;
}

function post(url: string, agent: Agent, body: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const sent = request(
      url,
      {
        method: "POST",
        agent,
        headers: { "content-type": "application/cloudevents-batch+json", "content-length": body.length },
      },
      (response) => {
        response.resume();
        response.on("end", () => {
          const retryAfter = response.headers["retry-after"];
          resolve({
            status: response.statusCode ?? 0,
            retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
          });
        });
        response.on("error", reject);
      },
    );
    sent.on("error", reject);
    sent.end(body);
  });
}

/** The body of request `index`: `perRequest` CloudEvents with ids ev-<n>, each with `padding` bytes of data. */
function batchBody(index: number, perRequest: number, padding: number): { ids: string[]; body: Buffer } {
  const ids = Array.from({ length: perRequest }, (_, offset) => `ev-${index * perRequest + offset + 1}`);
  const events = ids.map((id) => ({
    specversion: "1.0",
    id,
    source: "/e2e/sender",
    type: "e2e.posted",
    data: { id, pad: "x".repeat(padding) },
  }));
  return { ids, body: Buffer.from(JSON.stringify(events)) };
}

/**
 * Posts `requests` requests of `perRequest` events, `concurrency` at a time, each one again until it
 * gets a 2xx: after Retry-After on 429/503, shortly after a refused or broken connection (the source
 * is restarting). Knows which ids it was told 2xx for.
 */
class RetryingSender {
  readonly acked = new Set<string>();
  readonly statuses = new Map<number, number>();
  /** 429 and 503 answers that carried Retry-After. */
  refusalsWithRetryAfter = 0;
  refusalsWithout = 0;
  private readonly agent: Agent;
  readonly done: Promise<void>;

  constructor(
    private readonly url: string,
    private readonly requests: number,
    private readonly perRequest: number,
    concurrency: number,
    private readonly padding = 16,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets: concurrency });
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < this.requests) {
        const index = next;
        next += 1;
        await this.deliver(index);
      }
    };
    this.done = Promise.all(Array.from({ length: concurrency }, worker)).then(() => this.agent.destroy());
  }

  get ackedRequests(): number {
    return this.acked.size / this.perRequest;
  }

  private async deliver(index: number): Promise<void> {
    const { ids, body } = batchBody(index, this.perRequest, this.padding);
    for (;;) {
      let wait = 50;
      try {
        const answer = await post(this.url, this.agent, body);
        this.statuses.set(answer.status, (this.statuses.get(answer.status) ?? 0) + 1);
        if (answer.status >= 200 && answer.status < 300) {
          for (const id of ids) this.acked.add(id);
          return;
        }
        if (answer.status !== 429 && answer.status !== 503)
          throw new Error(`the source answered ${answer.status}`);
        if (answer.retryAfter === undefined) this.refusalsWithout += 1;
        else this.refusalsWithRetryAfter += 1;
        wait = Math.max(10, Number(answer.retryAfter ?? 0) * 1000);
      } catch (error) {
        if (/answered/.test((error as Error).message)) throw error;
        // Connection refused or cut: the source's stream is restarting.
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

/** A loopback port the system hands out and takes back: the source listens there in both runs. */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.listen({ host: "127.0.0.1", port: 0 }, () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

function healthz(port: number): Promise<{ pendingEvents: number; pendingBytes: number }> {
  return new Promise((resolve, reject) => {
    request(`http://127.0.0.1:${port}/healthz`, { agent: false }, (response) => {
      let text = "";
      response.on("data", (chunk: Buffer) => {
        text += chunk.toString();
      });
      response.on("end", () => resolve(JSON.parse(text)));
    })
      .on("error", reject)
      .end();
  });
}

function rssBytes(pid: number): number {
  const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  return Number(kb) * 1024;
}

async function until(condition: () => boolean, run: FlowProcess): Promise<void> {
  while (!condition()) {
    if (run.child.exitCode !== null) throw new Error(`flow exited early:\n${run.stderr.slice(-3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function sqliteIds(db: string): Set<string> {
  const reader = new Database(db, { readonly: true });
  try {
    return new Set((reader.prepare("select id from events").all() as { id: string }[]).map((row) => row.id));
  } finally {
    reader.close();
  }
}

describe("webhook senders -> source-http -> a sink, through `flow run`", () => {
  const dir = tempDir("http-source");
  afterAll(() => dir.remove());

  it("100,000 events land exactly once in SQLite through a SIGKILL of Core; nothing told 2xx is lost, the rest is sent again", async () => {
    const total = 100_000;
    const perRequest = 100;
    const port = await freePort();
    const db = join(dir.path, "webhooks.db");
    const file = dir.file(
      "webhooks.yaml",
      `
apiVersion: flow/v1
kind: Pipeline
metadata: { name: http-source-e2e }
defaults: { batch: { maxSize: 500 }, inFlight: 4, restart: { initialDelayMs: 50 } }
sources:
  - id: hooks
    command: [node, ${JSON.stringify(serviceMain("@flow/source-http"))}]
    config: { port: ${port}, retryAfterSeconds: 0, maxPendingEvents: 20000 }
consumers:
  - id: db
    command: [node, ${JSON.stringify(serviceMain("@flow/consumer-sqlite"))}]
    inputs: [hooks]
    config: { path: ${JSON.stringify(db)}, table: events }
`,
    );
    const first = new FlowProcess(["run", file], { cwd: dir.path });
    const listening = JSON.parse(
      await first.waitForLog(/"stage":"hooks".*"msg":"http source listening"/),
    ) as { port: number };
    expect(listening.port).toBe(port);
    const sender = new RetryingSender(`http://127.0.0.1:${port}/events`, total / perRequest, perRequest, 32);
    await sinkHolds(first, db, Math.floor(total * (0.2 + Math.random() * 0.4)));
    first.kill("SIGKILL");
    expect((await first.wait()).signal).toBe("SIGKILL");
    // Every request answered 2xx before the kill is in the sink: the 2xx came after the commit.
    const ackedAtKill = [...sender.acked];
    const stored = sqliteIds(db);
    expect(ackedAtKill.filter((id) => !stored.has(id))).toEqual([]);
    console.log(
      `http-source: Core killed with ${stored.size} ids stored, ${ackedAtKill.length} answered 2xx`,
    );

    const rerun = new FlowProcess(["run", file], { cwd: dir.path });
    const outcome = await Promise.race([sender.done.then(() => "sent"), rerun.wait().then(() => "exited")]);
    if (outcome !== "sent")
      throw new Error(`the rerun exited before the sender was done:\n${rerun.stderr.slice(-3000)}`);
    rerun.kill("SIGTERM");
    expect((await rerun.wait()).code).toBe(130);
    expect(sender.acked.size).toBe(total);
    expect(sinkCounts(db)).toEqual({ rows: total, uniq: total });
    const ids = sqliteIds(db);
    expect(Array.from({ length: total }, (_, n) => `ev-${n + 1}`).filter((id) => !ids.has(id))).toEqual([]);
  }, 240_000);

  it("a sender faster than a stalled consumer gets 429 with Retry-After, the source's memory stays bounded, and nothing told 2xx is lost after a SIGKILL of Core", async () => {
    const port = await freePort();
    const out = join(dir.path, "ids.txt");
    const release = join(dir.path, "release");
    // Two batches of 100 in flight at the stalled consumer, one more queued; the sender's 8 requests
    // of 50 do not fit, so it is refused as soon as the consumer holds.
    const maxPendingEvents = 300;
    const maxPendingBytes = 1024 * 1024;
    const file = dir.file(
      "stalled.yaml",
      `
apiVersion: flow/v1
kind: Pipeline
metadata: { name: http-source-stalled }
defaults: { batch: { maxSize: 100 }, inFlight: 2, timeouts: { ackMs: 600000 }, restart: { initialDelayMs: 50 } }
sources:
  - id: hooks
    command: [node, ${JSON.stringify(serviceMain("@flow/source-http"))}]
    config: { port: ${port}, maxPendingEvents: ${maxPendingEvents}, maxPendingBytes: ${maxPendingBytes}, retryAfterSeconds: 1 }
consumers:
  - id: slow
    command: [node, ${JSON.stringify(RECORDING_CONSUMER)}]
    inputs: [hooks]
    config: { path: ${JSON.stringify(out)}, stallAfterBatches: 2, releaseFile: ${JSON.stringify(release)} }
`,
    );
    const first = new FlowProcess(["run", file], { cwd: dir.path });
    const pid = await servicePid(first, "hooks");
    await first.waitForLog(/"stage":"hooks".*"msg":"http source listening"/);
    const url = `http://127.0.0.1:${port}/events`;
    const sender = new RetryingSender(url, 100, 50, 8);
    // The consumer holds from its third batch on: the window fills, and the sender is refused.
    await until(() => sender.refusalsWithRetryAfter >= 8, first);
    const before = rssBytes(pid);

    // A flood that does not wait: 600 requests of 100 events of 1 KB (60 MB), none of it may be kept.
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    const flood: Answer[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < 600) {
          next += 1;
          flood.push(await post(url, agent, batchBody(10_000 + next, 100, 1000).body));
        }
      }),
    );
    agent.destroy();
    const window = await healthz(port);
    const grown = rssBytes(pid) - before;
    console.log(
      `http-source stalled: ${flood.length} flood requests, RSS grew ${Math.round(grown / 1024 / 1024)} MB, window ${JSON.stringify(window)}`,
    );
    expect(new Set(flood.map((answer) => `${answer.status} retry-after ${answer.retryAfter}`))).toEqual(
      new Set(["429 retry-after 1"]),
    );
    expect(window.pendingEvents).toBeLessThanOrEqual(maxPendingEvents);
    expect(window.pendingBytes).toBeLessThanOrEqual(maxPendingBytes);
    expect(grown).toBeLessThan(48 * 1024 * 1024);
    expect(sender.refusalsWithout).toBe(0);

    // Released, the sender gets through; Core is killed half way.
    writeFileSync(release, "");
    await until(() => sender.ackedRequests >= 50, first);
    first.kill("SIGKILL");
    await first.wait();
    const recorded = new Set(readFileSync(out, "utf8").split("\n").filter(Boolean));
    expect([...sender.acked].filter((id) => !recorded.has(id))).toEqual([]);

    const rerun = new FlowProcess(["run", file], { cwd: dir.path });
    const outcome = await Promise.race([sender.done.then(() => "sent"), rerun.wait().then(() => "exited")]);
    if (outcome !== "sent")
      throw new Error(`the rerun exited before the sender was done:\n${rerun.stderr.slice(-3000)}`);
    rerun.kill("SIGTERM");
    await rerun.wait();
    const all = new Set(readFileSync(out, "utf8").split("\n").filter(Boolean));
    expect(Array.from({ length: 5000 }, (_, n) => `ev-${n + 1}`).filter((id) => !all.has(id))).toEqual([]);
  }, 240_000);
});
