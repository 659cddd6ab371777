import type { ReadRequest } from "../../gen/source_service/v2/source";
import type { CheckpointCommit, CheckpointCommitResult, StoredCheckpoint } from "../../state";
import { RunStages } from "../run-stages";
import { assembleSourceNode, type SourceNodeHooks } from "../source-node-assembly";
import type { StageRecord } from "../stage-record";
import { StoreOutage } from "../store-outage";
import type { SourceMessage } from "../stream-codecs";
import { type FakeLinkStream, fakeEndpoint, fakeStreams, planFrom, silentLogger } from "./fake-link-stream";

/** The stages of a run reading one source, `src`, into one consumer, `sink`. */
export function oneSourceStages(inFlight?: number): RunStages {
  return new RunStages(
    planFrom(`
metadata: { name: t }
${inFlight === undefined ? "" : `defaults: { inFlight: ${inFlight} }`}
sources: [{ id: src, address: "127.0.0.1:1" }]
consumers: [{ id: sink, address: "127.0.0.1:2", inputs: [src] }]
`),
  );
}

/** The requests of one kind ("start", "credit", "commit") a source's stream was sent, as plain values. */
export function sourceRequests(stream: FakeLinkStream<ReadRequest, SourceMessage>, kind: string) {
  return stream.written.flatMap((message) =>
    message.request?.$case === kind ? [message.request.value as unknown as Record<string, unknown>] : [],
  );
}

/**
 * A state store's checkpoints as a test sees them: every commit is recorded ("<source> <description>")
 * and kept in `checkpoints`, where a checkpoint is read from; while `held`, commits wait for
 * `release` (a slow store); `refuse` makes every commit fail with it.
 */
export function fakeCheckpointStore() {
  const store = {
    committed: [] as string[],
    checkpoints: new Map<string, StoredCheckpoint>(),
    held: false,
    refuse: undefined as Error | undefined,
    waiting: [] as (() => void)[],
    async getCheckpoint(_pipeline: string, sourceId: string) {
      return store.checkpoints.get(sourceId);
    },
    async commitCheckpoint(commit: CheckpointCommit): Promise<CheckpointCommitResult> {
      if (store.held) await new Promise<void>((resolve) => store.waiting.push(resolve));
      if (store.refuse) throw store.refuse;
      store.committed.push(`${commit.sourceId} ${commit.description}`);
      const checkpoint = { ...commit, committedAt: new Date() };
      store.checkpoints.set(commit.sourceId, checkpoint);
      return { committed: true, checkpoint };
    },
    release() {
      store.held = false;
      for (const resolve of store.waiting.splice(0)) resolve();
    },
  };
  return store;
}

export type FakeCheckpointStore = ReturnType<typeof fakeCheckpointStore>;

/** A store outage watch that never sees an outage (the fake store does not fail as a store away would). */
export const noOutage = () =>
  new StoreOutage({ location: "fake store", limitMs: 60_000, logger: silentLogger });

/**
 * A real SourceNode for a source's record, over a fake stream, endpoint and store, and nothing of
 * a run around it: what the engine's source pieces act on. Hooks not given do nothing.
 */
export function fakeSourceNode(
  record: StageRecord,
  hooks: Partial<SourceNodeHooks> = {},
  {
    store = fakeCheckpointStore(),
    commitIntervalMs = 0,
  }: { store?: FakeCheckpointStore; commitIntervalMs?: number } = {},
) {
  const streams = fakeStreams<ReadRequest, SourceMessage>();
  const endpoint = fakeEndpoint();
  const source = assembleSourceNode(
    record,
    {
      pipeline: "spec",
      store,
      logger: silentLogger,
      outage: noOutage(),
      endpoint,
      openStream: streams,
      commitIntervalMs,
      runId: () => "run-1",
      syncDeadLetters: () => undefined,
    },
    {
      onBatch: () => undefined,
      onExhausted: () => undefined,
      onBroken: () => undefined,
      onCommitFailed: () => undefined,
      onCommitSettled: () => undefined,
      ...hooks,
    },
  );
  record.source = source;
  return { source, streams, endpoint, store };
}
