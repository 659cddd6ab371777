import type { ReadRequest } from "../gen/source_service/v2/source";
import { atLeastOnce } from "./delivery-policy";
import { RunStages } from "./run-stages";
import { SourceDriver } from "./source-driver";
import type { SourceNode } from "./source-node";
import type { SourceMessage } from "./stream-codecs";
import { checkpoint } from "./test-support/fake-answers";
import { batchOf, fakeStreams, planFrom, settle, silentLogger, until } from "./test-support/fake-link-stream";
import { fakeServices } from "./test-support/fake-services";
import { fakeCheckpointStore, noOutage, oneSourceStages, sourceRequests } from "./test-support/fake-sources";

/** A driver of the sources of `stages` (one source, src, by default), its run's commit interval `commitIntervalMs`. */
function driver({ stages = oneSourceStages(2), commitIntervalMs = 0 } = {}) {
  const store = fakeCheckpointStore();
  const services = fakeServices(stages.plan.stages.map((stage) => stage.id));
  const streams = fakeStreams<ReadRequest, SourceMessage>();
  const nodes = new Map<string, SourceNode>();
  const policy = atLeastOnce(nodes);
  const state = { stopping: false, allDone: 0 };
  const batches: string[] = [];
  const failures: Error[] = [];
  const sources = new SourceDriver({
    plan: () => stages.plan,
    store,
    logger: silentLogger,
    outage: noOutage(),
    services,
    records: stages.records,
    commitIntervalMs,
    openStream: streams,
    runId: () => "run-1",
    nodes,
    policy,
    syncDeadLetters: () => undefined,
    onBatch: (source, sequence, batch, at) => {
      policy.opened(source, sequence, batch, at);
      batches.push(`${source.id} ${sequence} (${batch.count})`);
    },
    stopping: () => state.stopping,
    running: () => true,
    onFailed: (error) => failures.push(error),
    onAllDone: () => {
      state.allDone += 1;
    },
  });
  /** A delivery of the source's batch `sequence` closed downstream. */
  const written = (sequence: bigint, source = "src") => {
    for (const node of policy.closed({ source, sequence })) sources.settled(node);
  };
  const requests = (kind: string) => sourceRequests(streams.last(), kind);
  return { sources, stages, store, services, streams, nodes, state, batches, failures, written, requests };
}

describe("SourceDriver", () => {
  it("opens each source after its committed checkpoint, with its credits", async () => {
    const { sources, store, streams, requests } = driver();
    const stored = checkpoint(4);
    store.checkpoints.set("src", {
      ...stored,
      pipeline: "t",
      sourceId: "src",
      runId: "run-0",
      sequence: 4,
      committedAt: new Date(),
    });
    await sources.open();
    expect(streams.streams).toHaveLength(1);
    expect(requests("start")[0]).toMatchObject({ checkpoint: stored, initialCredits: 2 });
  });

  it("passes batches on; once one is written, commits its checkpoint, tells the source, and gives the credit back", async () => {
    const { sources, store, streams, stages, batches, written, requests } = driver();
    await sources.open();
    streams.last().reply({ kind: "batch", sequence: 1n, batch: batchOf(3), checkpoint: checkpoint(1) });
    streams.last().reply({ kind: "batch", sequence: 2n, batch: batchOf(1), checkpoint: checkpoint(2) });
    expect(batches).toEqual(["src 1 (3)", "src 2 (1)"]);
    written(1n);
    await until(() => requests("commit").length === 1);
    expect(store.committed).toEqual(["src after 1"]);
    expect(requests("commit")).toEqual([{ sequence: 1n, checkpoint: checkpoint(1) }]);
    expect(requests("credit")).toEqual([{ batches: 1 }]);
    expect(stages.records.get("src")?.counters.inFlight).toBe(1);
  });

  it("on stop, ends a source once what it sent is written and its last checkpoint committed; then all are done", async () => {
    const { sources, streams, state, written, requests } = driver();
    await sources.open();
    streams.last().reply({ kind: "batch", sequence: 1n, batch: batchOf(1), checkpoint: checkpoint(1) });
    state.stopping = true;
    sources.stop();
    expect([streams.last().ended, state.allDone]).toEqual([false, 0]);
    written(1n);
    await until(() => streams.last().ended);
    expect(requests("commit")).toEqual([{ sequence: 1n, checkpoint: checkpoint(1) }]);
    expect(requests("credit")).toEqual([]);
    expect(state.allDone).toBe(1);
  });

  it("on stop, does not deliver a batch a done source still sends on a credit it had (the links are closing)", async () => {
    const { sources, streams, state, batches } = driver();
    await sources.open();
    state.stopping = true;
    sources.stop();
    expect(state.allDone).toBe(1);
    streams.last().reply({ kind: "batch", sequence: 1n, batch: batchOf(1), checkpoint: checkpoint(1) });
    // Never committed: the next run reads it again.
    expect(batches).toEqual([]);
  });

  it("opens no stream when the run stops before the sources open, and all are done at once", async () => {
    const { sources, streams, state } = driver();
    state.stopping = true;
    await sources.open();
    expect(streams.streams).toHaveLength(0);
    expect(state.allDone).toBe(1);
  });

  it("fails the run, saying what went wrong, when a checkpoint cannot be read", async () => {
    const { sources, store, failures } = driver();
    store.getCheckpoint = () => Promise.reject(new Error("disk I/O error"));
    await sources.open();
    expect(failures.map((error) => error.message)).toEqual([
      "cannot read the sources' checkpoints: disk I/O error",
    ]);
  });

  it("during a reload's pause, keeps a batch that still arrives until resume, then passes it on", async () => {
    const { sources, streams, batches, written } = driver();
    await sources.open();
    streams.last().reply({ kind: "batch", sequence: 1n, batch: batchOf(1), checkpoint: checkpoint(1) });
    written(1n);
    await sources.quiesce();
    streams.last().reply({ kind: "batch", sequence: 2n, batch: batchOf(2), checkpoint: checkpoint(2) });
    expect(batches).toEqual(["src 1 (1)"]);
    sources.resume();
    expect(batches).toEqual(["src 1 (1)", "src 2 (2)"]);
  });

  it("recovers a broken stream and reopens it from the committed checkpoint", async () => {
    const { sources, streams, services, written, requests } = driver();
    await sources.open();
    streams.last().reply({ kind: "batch", sequence: 1n, batch: batchOf(1), checkpoint: checkpoint(1) });
    written(1n);
    await until(() => requests("commit").length === 1);
    streams.last().fail("source crashed");
    await until(() => streams.streams.length === 2);
    expect(services.endpoints.get("src")?.recoveries).toEqual(["stream failed: source crashed"]);
    expect(requests("start")[0]).toMatchObject({ checkpoint: checkpoint(1) });
    await settle();
  });

  it("commits each source at its own commitIntervalMs, a source that sets none at the run's", async () => {
    jest.useFakeTimers({ now: 1_000_000, doNotFake: ["setImmediate", "nextTick", "queueMicrotask"] });
    try {
      const stages = new RunStages(
        planFrom(`
metadata: { name: t }
sources:
  - { id: fast, address: "127.0.0.1:1", commitIntervalMs: 0 }
  - { id: slow, address: "127.0.0.1:2", commitIntervalMs: 500 }
  - { id: plain, address: "127.0.0.1:3" }
consumers: [{ id: sink, address: "127.0.0.1:4", inputs: [fast, slow, plain] }]
`),
      );
      const { sources, store, streams, written } = driver({ stages, commitIntervalMs: 100 });
      await sources.open();
      const ids = ["fast", "slow", "plain"];
      const readAndWrite = async (n: number) => {
        ids.forEach((id, index) => {
          const batch = {
            kind: "batch",
            sequence: BigInt(n),
            batch: batchOf(1),
            checkpoint: checkpoint(n),
          } as const;
          streams.streams[index]?.reply(batch);
          written(BigInt(n), id);
        });
        await settle();
      };
      // The first commit of each goes at once: none of them has committed yet.
      await readAndWrite(1);
      expect(store.committed).toEqual(["fast after 1", "slow after 1", "plain after 1"]);
      await readAndWrite(2);
      await readAndWrite(3);
      expect(store.committed.slice(3)).toEqual(["fast after 2", "fast after 3"]);
      jest.advanceTimersByTime(100);
      await settle();
      expect(store.committed.slice(5)).toEqual(["plain after 3"]);
      jest.advanceTimersByTime(399);
      await settle();
      expect(store.committed.slice(6)).toEqual([]);
      jest.advanceTimersByTime(1);
      await settle();
      expect(store.committed.slice(6)).toEqual(["slow after 3"]);
      // Each source heard of its own commits only.
      expect(streams.streams.map((stream) => sourceRequests(stream, "commit").length)).toEqual([3, 2, 2]);
    } finally {
      jest.useRealTimers();
    }
  });
});
