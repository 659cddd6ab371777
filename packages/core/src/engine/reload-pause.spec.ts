import { atLeastOnce } from "./delivery-policy";
import type { RawBatch } from "./raw-batch";
import { ReloadPause } from "./reload-pause";
import { RunStages } from "./run-stages";
import { SettledSignal } from "./settled-signal";
import type { SourceNode } from "./source-node";
import type { StageRecord } from "./stage-record";
import { checkpoint } from "./test-support/fake-answers";
import { batchOf, planFrom, settle, until } from "./test-support/fake-link-stream";
import { fakeSourceNode } from "./test-support/fake-sources";

function twoSources(commitIntervalMs = 0) {
  const stages = new RunStages(
    planFrom(`
metadata: { name: t }
sources: [{ id: a, address: "127.0.0.1:1" }, { id: b, address: "127.0.0.1:2" }]
consumers: [{ id: sink, address: "127.0.0.1:3", inputs: [a, b] }]
`),
  );
  const signal = new SettledSignal();
  const fake = (id: string) =>
    fakeSourceNode(
      stages.records.get(id) as StageRecord,
      { onCommitSettled: () => signal.notify() },
      { commitIntervalMs },
    );
  const a = fake("a");
  const b = fake("b");
  const nodes = new Map<string, SourceNode>([
    ["a", a.source],
    ["b", b.source],
  ]);
  const state = { running: true };
  const delivered: string[] = [];
  let resumed = 0;
  const reloadPause = new ReloadPause({
    nodes,
    policy: atLeastOnce(nodes),
    settled: signal,
    running: () => state.running,
    deliver: (source, sequence, batch) => delivered.push(`${source.id} ${sequence} (${batch.count})`),
    resumed: () => {
      resumed += 1;
    },
  });
  return { pause: reloadPause, a, b, nodes, signal, state, delivered, resumed: () => resumed };
}

/** Starts `promise` and says whether it has resolved yet. */
function watch(promise: Promise<unknown>): () => boolean {
  let resolved = false;
  void promise.then(() => {
    resolved = true;
  });
  return () => resolved;
}

const batch = (count: number): RawBatch => batchOf(count);

describe("ReloadPause", () => {
  it("holds no batch while there is no pause", () => {
    const { pause, a } = twoSources();
    expect(pause.paused).toBe(false);
    expect(pause.hold(a.source, 1n, batch(1), checkpoint(1))).toBe(false);
  });

  it("pauses, keeps the batches that still arrive, and is quiet once nothing is downstream", async () => {
    const { pause, a, signal } = twoSources();
    a.source.ledger.opened(1n, checkpoint(1), 2);
    const quiet = watch(pause.quiesce());
    expect(pause.paused).toBe(true);
    expect(pause.hold(a.source, 2n, batch(3), checkpoint(2))).toBe(true);
    await settle();
    expect(quiet()).toBe(false);
    a.source.ledger.close(1n);
    signal.notify();
    await until(quiet);
  });

  it("sends a commit waiting for its interval at once, and is quiet once it is done", async () => {
    const { pause, a } = twoSources(60_000);
    const { ledger, commits } = a.source;
    ledger.opened(1n, checkpoint(1), 1);
    ledger.close(1n);
    commits.schedule(ledger, false);
    await until(() => a.store.committed.length === 1);
    ledger.opened(2n, checkpoint(2), 1);
    ledger.close(2n);
    commits.schedule(ledger, false);
    expect(commits.busy).toBe(true);
    const quiet = watch(pause.quiesce());
    await until(quiet);
    expect(a.store.committed).toEqual(["a after 1", "a after 2"]);
  });

  it("stops waiting once the run has ended", async () => {
    const { pause, a, signal, state } = twoSources();
    a.source.ledger.opened(1n, checkpoint(1), 1);
    const quiet = watch(pause.quiesce());
    state.running = false;
    signal.notify();
    await until(quiet);
  });

  it("ends a leaving source's stream and drops what it sent; the rest goes on at resume", async () => {
    const { pause, a, b, nodes, delivered, resumed } = twoSources();
    a.source.open();
    b.source.open();
    await pause.quiesce();
    pause.hold(a.source, 1n, batch(1), checkpoint(1));
    pause.hold(b.source, 1n, batch(2), checkpoint(1));
    pause.hold(b.source, 2n, batch(3), checkpoint(2));
    const removed = watch(pause.remove(["a"]));
    expect(a.streams.last().ended).toBe(true);
    await settle();
    expect(removed()).toBe(false);
    a.streams.last().finish();
    await until(removed);
    expect([...nodes.keys()]).toEqual(["b"]);
    expect(a.source.done).toBe(true);

    pause.resume();
    expect(pause.paused).toBe(false);
    expect(delivered).toEqual(["b 1 (2)", "b 2 (3)"]);
    expect(resumed()).toBe(1);
  });

  it("drops at resume the batches of a source replaced during the pause (the new one reads them again)", async () => {
    const { pause, a, b, nodes, delivered } = twoSources();
    await pause.quiesce();
    pause.hold(a.source, 1n, batch(1), checkpoint(1));
    nodes.set("a", b.source);
    pause.resume();
    expect(delivered).toEqual([]);
  });
});
