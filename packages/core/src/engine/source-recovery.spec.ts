import { SettledSignal } from "./settled-signal";
import type { SourceNode } from "./source-node";
import { SourceRecovery } from "./source-recovery";
import type { StageRecord } from "./stage-record";
import { checkpoint } from "./test-support/fake-answers";
import { fakeEndpoint, settle, silentLogger, until } from "./test-support/fake-link-stream";
import { fakeSourceNode, oneSourceStages } from "./test-support/fake-sources";

function recovery(keepsCheckpoints = true) {
  const stages = oneSourceStages();
  const record = stages.records.get("src") as StageRecord;
  const signal = new SettledSignal();
  // As in a run: a commit that finished wakes whatever waits for the source to settle.
  const fake = fakeSourceNode(record, { onCommitSettled: () => signal.notify() });
  const endpoint = fakeEndpoint();
  const state = { stopping: false, running: true };
  const ended: SourceNode[] = [];
  const failures: Error[] = [];
  const recover = new SourceRecovery({
    logger: silentLogger,
    services: { endpoint: () => endpoint },
    policy: { keepsCheckpoints },
    records: stages.records,
    settled: signal,
    stopping: () => state.stopping,
    running: () => state.running,
    ended: (source) => ended.push(source),
    onFailed: (error) => failures.push(error),
  });
  fake.source.open();
  return { recover, ...fake, record, endpoint, signal, state, ended, failures };
}

describe("SourceRecovery", () => {
  it("recovers the service, waits for what the source sent to settle, then reopens from the committed checkpoint", async () => {
    const { recover, source, streams, record, endpoint, signal, failures } = recovery();
    source.commits.committed = checkpoint(4);
    source.ledger.opened(1n, checkpoint(5), 1);
    recover.broken(source, "stream failed: connection reset", false);
    expect(record.counters.errors).toBe(1);
    expect(source.broken).toBe(true);
    await settle();
    expect(endpoint.recoveries).toEqual(["stream failed: connection reset"]);
    expect(streams.streams).toHaveLength(1);

    source.ledger.close(1n);
    signal.notify();
    await until(() => streams.streams.length === 2);
    const start = streams.last().written[0]?.request;
    expect(start?.$case === "start" && start.value.checkpoint).toEqual(checkpoint(4));
    expect(source.broken).toBe(false);
    expect(failures).toEqual([]);
  });

  it("fails the run when the source says restarting will not help", async () => {
    const { recover, source, endpoint, failures } = recovery();
    recover.broken(source, "/data/in.jsonl was replaced", true);
    await settle();
    expect(failures.map((error) => error.message)).toEqual([
      'source "src" failed: /data/in.jsonl was replaced',
    ]);
    expect(endpoint.recoveries).toEqual([]);
  });

  it("fails the run under at-most-once: there is no checkpoint to resume from", () => {
    const { recover, source, failures } = recovery(false);
    recover.broken(source, "stream failed: connection reset", false);
    expect(failures.map((error) => error.message)).toEqual([
      'source "src" failed (stream failed: connection reset); at-most-once delivery keeps no checkpoint to resume from',
    ]);
  });

  it("does not recover a source that will send nothing more: it only looks whether it is done", () => {
    const stopping = recovery();
    stopping.state.stopping = true;
    stopping.recover.broken(stopping.source, "stream failed: cancelled", false);
    const exhausted = recovery();
    exhausted.source.exhausted = true;
    exhausted.recover.broken(exhausted.source, "stream failed: cancelled", false);
    const done = recovery();
    done.source.done = true;
    done.recover.broken(done.source, "stream failed: cancelled", false);
    expect(stopping.ended).toEqual([stopping.source]);
    expect(exhausted.ended).toEqual([exhausted.source]);
    expect(done.ended).toEqual([]);
    for (const run of [stopping, exhausted, done]) {
      expect(run.endpoint.recoveries).toEqual([]);
      expect(run.record.counters.errors).toBe(0);
    }
  });

  it("does not reopen a source when the run was stopped while it waited", async () => {
    const { recover, source, streams, signal, state } = recovery();
    source.ledger.opened(1n, checkpoint(1), 1);
    recover.broken(source, "stream failed: connection reset", false);
    await settle();
    state.stopping = true;
    source.ledger.close(1n);
    signal.notify();
    await settle();
    expect(streams.streams).toHaveLength(1);
  });

  it("fails the run when the service cannot be recovered", async () => {
    const { recover, source, endpoint, failures } = recovery();
    endpoint.refuse = new Error('service "src" did not come back after 3 restarts');
    recover.broken(source, "stream failed: connection reset", false);
    await until(() => failures.length === 1);
    expect(failures[0]?.message).toBe('service "src" did not come back after 3 restarts');
  });

  describe("rewind (a data-plane restart)", () => {
    it("abandons what is in flight, commits what settled, and reopens from that checkpoint", async () => {
      const { recover, source, streams, record, store } = recovery();
      source.ledger.opened(1n, checkpoint(1), 1);
      source.ledger.opened(2n, checkpoint(2), 1);
      source.ledger.opened(3n, checkpoint(3), 1);
      source.ledger.close(1n);
      record.counters.inFlight = 2;
      recover.rewind(source, Promise.resolve());
      expect(source.ledger.inFlight).toBe(0);
      expect(record.counters.inFlight).toBe(0);
      expect(streams.streams[0]?.cancelled).toBe(true);
      await until(() => streams.streams.length === 2);
      // Batch 1 was written everywhere: it is committed before the stream reopens after it.
      expect(store.committed).toEqual([`src ${checkpoint(1).description}`]);
      const start = streams.last().written[0]?.request;
      expect(start?.$case === "start" && start.value.checkpoint).toEqual(checkpoint(1));
      expect(source.broken).toBe(false);
    });

    it("stops the source at once but reopens it only once the restart is ready", async () => {
      const { recover, source, streams } = recovery();
      source.ledger.opened(1n, checkpoint(1), 1);
      let ready = (): void => undefined;
      recover.rewind(source, new Promise<void>((resolve) => (ready = resolve)));
      expect(streams.streams[0]?.cancelled).toBe(true);
      await settle();
      expect(streams.streams).toHaveLength(1);
      ready();
      await until(() => streams.streams.length === 2);
    });

    it("re-reads an exhausted source: what it sent last may never have been written", async () => {
      const { recover, source, streams } = recovery();
      source.ledger.opened(1n, checkpoint(1), 1);
      source.exhausted = true;
      recover.rewind(source, Promise.resolve());
      await until(() => streams.streams.length === 2);
      expect(source.exhausted).toBe(false);
    });

    it("leaves the reopening to a recovery under way, and only empties the ledger", async () => {
      const { recover, source, streams, signal } = recovery();
      source.ledger.opened(1n, checkpoint(1), 1);
      recover.broken(source, "stream failed: connection reset", false);
      recover.rewind(source, Promise.resolve());
      expect(source.ledger.inFlight).toBe(0);
      signal.notify();
      await until(() => streams.streams.length === 2);
      await settle();
      expect(streams.streams).toHaveLength(2);
    });

    it("does not reopen when the run stops meanwhile: the source is only looked at to be done", async () => {
      const { recover, source, streams, state, ended } = recovery();
      source.ledger.opened(1n, checkpoint(1), 1);
      state.stopping = true;
      recover.rewind(source, Promise.resolve());
      await until(() => ended.length === 1);
      expect(streams.streams).toHaveLength(1);
    });
  });
});
