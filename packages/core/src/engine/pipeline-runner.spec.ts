import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { WriteResponse } from "../gen/consumer_service/v1/consumer";
import type { WriteRequest } from "../gen/consumer_service/v2/consumer";
import type { ReadRequest } from "../gen/source_service/v2/source";
import { openStateStore, type StateStore } from "../state";
import { PipelineRunner, type RunResult } from "./pipeline-runner";
import type { LinkRequest, SourceMessage } from "./stream-codecs";
import { checkpoint, written } from "./test-support/fake-answers";
import {
  batchOf,
  type FakeLinkStream,
  fakeStreams,
  planFrom,
  settle,
  silentLogger,
  until,
} from "./test-support/fake-link-stream";
import { fakeServices } from "./test-support/fake-services";
import { sourceRequests } from "./test-support/fake-sources";

describe("PipelineRunner over fake services and streams, with a real SQLite store", () => {
  let dir: string;
  let store: StateStore;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "flow-runner-"));
    store = await openStateStore(`sqlite:${join(dir, "state.db")}`, { baseDir: dir });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function start(delivery = "at-least-once", inFlight = 2) {
    const plan = planFrom(`
metadata: { name: runner-spec }
delivery: ${delivery}
deadLetters: { path: ${JSON.stringify(join(dir, "dead.jsonl"))} }
defaults: { inFlight: ${inFlight} }
sources: [{ id: src, address: "127.0.0.1:1" }]
consumers: [{ id: sink, address: "127.0.0.1:2", inputs: [src] }]
`);
    const services = fakeServices(["src", "sink"]);
    const sources = fakeStreams<ReadRequest, SourceMessage>();
    const consumers = fakeStreams<LinkRequest<WriteRequest>, WriteResponse>();
    const runner = new PipelineRunner({
      plan,
      store,
      logger: silentLogger,
      services,
      streams: { source: sources, consumer: consumers },
      commitIntervalMs: 0,
      statsIntervalMs: 60_000,
      // Tests that stop with batches unanswered end by the drain timeout.
      drainTimeoutMs: 100,
    });
    let result: RunResult | undefined;
    const running = runner.run().then((outcome) => {
      result = outcome;
      return outcome;
    });
    return { runner, services, sources, consumers, running, result: () => result };
  }

  const batchesSent = (stream: FakeLinkStream<LinkRequest<WriteRequest>, WriteResponse>) =>
    stream.written.filter((message) => "sequence" in message).length;

  it("commits a checkpoint only when its batch and every batch before it are written, then tells the source", async () => {
    const { sources, consumers, running } = start();
    await until(() => sources.streams.length === 1);
    const source = sources.last();
    const sink = consumers.last();
    source.reply({ kind: "batch", sequence: 1n, batch: batchOf(2, "a"), checkpoint: checkpoint(1) });
    source.reply({ kind: "batch", sequence: 2n, batch: batchOf(2, "b"), checkpoint: checkpoint(2) });
    expect(batchesSent(sink)).toBe(2);
    // The second batch is written first: nothing is committable yet.
    sink.reply(written(2n));
    await settle();
    expect(await store.getCheckpoint("runner-spec", "src")).toBeUndefined();
    expect(sourceRequests(source, "commit")).toEqual([]);
    sink.reply(written(1n));
    await until(() => sourceRequests(source, "commit").length === 1);
    expect((await store.getCheckpoint("runner-spec", "src"))?.description).toBe("after 2");
    expect(sourceRequests(source, "commit")).toEqual([{ sequence: 2n, checkpoint: checkpoint(2) }]);
    source.reply({ kind: "exhausted", lastSequence: 2n });
    await until(() => sink.ended);
    sink.finish();
    source.finish();
    const result = await running;
    expect(result.status).toBe("succeeded");
    expect(result.stages.find((stage) => stage.stageId === "sink")?.eventsOut).toBe(4);
  });

  it("gives a source a credit per batch written everywhere, never more than inFlight unacknowledged", async () => {
    const { sources, consumers, runner, running } = start("at-least-once", 2);
    await until(() => sources.streams.length === 1);
    const source = sources.last();
    expect(sourceRequests(source, "start")[0]?.initialCredits).toBe(2);
    source.reply({ kind: "batch", sequence: 1n, batch: batchOf(1), checkpoint: checkpoint(1) });
    source.reply({ kind: "batch", sequence: 2n, batch: batchOf(1), checkpoint: checkpoint(2) });
    await settle();
    expect(sourceRequests(source, "credit")).toEqual([]);
    consumers.last().reply(written(1n));
    await until(() => sourceRequests(source, "credit").length === 1);
    expect(sourceRequests(source, "credit")).toEqual([{ batches: 1 }]);
    runner.stop();
    expect((await running).status).toBe("stopped");
  });

  it("drains on stop: the source half-closes, what is in flight is written and committed, the run ends stopped", async () => {
    const { sources, consumers, runner, running, result } = start();
    await until(() => sources.streams.length === 1);
    const source = sources.last();
    const sink = consumers.last();
    source.reply({ kind: "batch", sequence: 1n, batch: batchOf(3), checkpoint: checkpoint(1) });
    runner.stop();
    await settle();
    expect(result()).toBeUndefined();
    // The source stream stays open until its last checkpoint is committed and noticed.
    expect(source.ended).toBe(false);
    sink.reply(written(1n));
    await until(() => source.ended);
    expect(sourceRequests(source, "commit")).toEqual([{ sequence: 1n, checkpoint: checkpoint(1) }]);
    expect(sourceRequests(source, "credit")).toEqual([]);
    source.finish();
    await until(() => sink.ended);
    sink.finish();
    expect((await running).status).toBe("stopped");
    expect((await store.getCheckpoint("runner-spec", "src"))?.description).toBe("after 1");
  });

  it("recovers a broken source: once what it sent settles, it reopens from the committed checkpoint", async () => {
    const { sources, consumers, services, runner, running } = start();
    await until(() => sources.streams.length === 1);
    const first = sources.last();
    const sink = consumers.last();
    first.reply({ kind: "batch", sequence: 1n, batch: batchOf(1, "a"), checkpoint: checkpoint(1) });
    sink.reply(written(1n));
    await until(() => sourceRequests(first, "commit").length === 1);
    first.reply({ kind: "batch", sequence: 2n, batch: batchOf(1, "b"), checkpoint: checkpoint(2) });
    first.fail("source crashed");
    await settle();
    expect(services.endpoints.get("src")?.recoveries).toEqual(["stream failed: source crashed"]);
    // Batch 2 is still in flight downstream: the source waits for it before reopening.
    expect(sources.streams).toHaveLength(1);
    sink.reply(written(2n));
    await until(() => sources.streams.length === 2);
    const reopened = sourceRequests(sources.last(), "start")[0];
    expect(reopened?.checkpoint).toEqual(checkpoint(2));
    runner.stop();
    expect((await running).status).toBe("stopped");
  });

  it("a stop while the services start ends the run there, stopped, with no stream opened", async () => {
    const plan = planFrom(`
metadata: { name: runner-spec }
sources: [{ id: src, address: "127.0.0.1:1" }]
consumers: [{ id: sink, address: "127.0.0.1:2", inputs: [src] }]
`);
    const services = fakeServices(["src", "sink"]);
    let started: () => void = () => undefined;
    const starting = new Promise<void>((resolve) => {
      started = resolve;
    });
    let negotiated = false;
    const sources = fakeStreams<ReadRequest, SourceMessage>();
    const consumers = fakeStreams<LinkRequest<WriteRequest>, WriteResponse>();
    const runner = new PipelineRunner({
      plan,
      store,
      logger: silentLogger,
      services: {
        ...services,
        start: () => starting,
        negotiate: async () => {
          negotiated = true;
          return { warnings: [], limits: new Map(), directPath: new Set<string>() };
        },
      },
      streams: { source: sources, consumer: consumers },
    });
    const running = runner.run();
    await settle();
    runner.stop();
    started();
    const result = await running;
    expect(result.status).toBe("stopped");
    expect(negotiated).toBe(false);
    expect(sources.streams).toHaveLength(0);
    expect(consumers.streams).toHaveLength(0);
    expect((await store.listRuns({ pipeline: "runner-spec" }))[0]?.status).toBe("stopped");
  });

  it("fails the run when a source ends its stream with FAILED_PRECONDITION (restarting would not help)", async () => {
    const { sources, services, running } = start();
    await until(() => sources.streams.length === 1);
    sources.last().fail("/data/in.jsonl was replaced", 9);
    const result = await running;
    expect(result.status).toBe("failed");
    expect(result.error?.message).toBe('source "src" failed: /data/in.jsonl was replaced');
    expect(services.endpoints.get("src")?.recoveries).toEqual([]);
    expect((await store.listRuns({ pipeline: "runner-spec" }))[0]?.status).toBe("failed");
  });

  it("at-most-once: keeps no checkpoint, and a source failure ends the run", async () => {
    const { sources, consumers, running } = start("at-most-once");
    await until(() => sources.streams.length === 1);
    sources.last().reply({ kind: "batch", sequence: 1n, batch: batchOf(1), checkpoint: checkpoint(1) });
    consumers.last().reply(written(1n));
    await settle();
    sources.last().fail("connection reset");
    const result = await running;
    expect(result.status).toBe("failed");
    expect(result.error?.message).toMatch(/at-most-once delivery keeps no checkpoint to resume from/);
    expect(await store.getCheckpoint("runner-spec", "src")).toBeUndefined();
  });
});
