import { SourceCommits } from "./source-commits";
import { SourceLedger } from "./source-ledger";
import { checkpoint } from "./test-support/fake-answers";
import { settle } from "./test-support/fake-link-stream";
import { fakeCheckpointStore, noOutage } from "./test-support/fake-sources";

// The interval is measured on jest's clock, stepped by hand; the store's promises and the
// engine's own setImmediate turns run for real (settle()).
beforeEach(() => {
  jest.useFakeTimers({ now: 1_000_000, doNotFake: ["setImmediate", "nextTick", "queueMicrotask"] });
});
afterEach(() => {
  jest.useRealTimers();
});

function commitsEvery(intervalMs: number) {
  const store = fakeCheckpointStore();
  const ledger = new SourceLedger();
  const told: string[] = [];
  const commits = new SourceCommits({
    pipeline: "spec",
    sourceId: "src",
    store,
    outage: noOutage(),
    intervalMs,
    runId: () => "run-1",
    syncDeadLetters: () => undefined,
    onCommitted: (sequence, at) => told.push(`${sequence} ${at.description}`),
    onFailed: (error) => {
      throw error;
    },
    onSettled: () => undefined,
  });
  /** Batch `sequence` was read and is now acknowledged everywhere: its delivery settles. */
  const settled = (sequence: number) => {
    ledger.opened(BigInt(sequence), checkpoint(sequence), 1);
    ledger.close(BigInt(sequence));
    commits.schedule(ledger, false);
  };
  return { commits, ledger, store, told, settled };
}

describe("SourceCommits", () => {
  it("with intervalMs 0, commits each settled batch at once, the clock never moving", async () => {
    const { store, told, settled, commits } = commitsEvery(0);
    for (const sequence of [1, 2, 3]) {
      settled(sequence);
      await settle();
      expect(commits.busy).toBe(false);
    }
    expect(store.committed).toEqual(["src after 1", "src after 2", "src after 3"]);
    expect(told).toEqual(["1 after 1", "2 after 2", "3 after 3"]);
    expect(jest.getTimerCount()).toBe(0);
  });

  it("with intervalMs 0, still commits one at a time (the newest wins) and never ahead of acknowledgements", async () => {
    const { store, ledger, commits, settled } = commitsEvery(0);
    store.held = true;
    settled(1);
    await settle();
    settled(2);
    settled(3);
    await settle();
    // One commit reached the store; the two batches that settled meanwhile wait for it.
    expect(store.waiting).toHaveLength(1);
    store.release();
    await settle();
    expect(store.committed).toEqual(["src after 1", "src after 3"]);
    // Batch 5 is acknowledged, 4 is not: nothing past 3 is committable.
    ledger.opened(4n, checkpoint(4), 1);
    ledger.opened(5n, checkpoint(5), 1);
    ledger.close(5n);
    commits.schedule(ledger, false);
    await settle();
    expect(store.committed).toEqual(["src after 1", "src after 3"]);
    ledger.close(4n);
    commits.schedule(ledger, false);
    await settle();
    expect(store.committed).toEqual(["src after 1", "src after 3", "src after 5"]);
  });

  it("with intervalMs 500, waits out its interval after a commit, then commits the newest", async () => {
    const { store, settled, commits } = commitsEvery(500);
    settled(1);
    await settle();
    expect(store.committed).toEqual(["src after 1"]);
    settled(2);
    jest.advanceTimersByTime(200);
    settled(3);
    await settle();
    expect(commits.busy).toBe(true);
    jest.advanceTimersByTime(299);
    await settle();
    expect(store.committed).toEqual(["src after 1"]);
    jest.advanceTimersByTime(1);
    await settle();
    expect(store.committed).toEqual(["src after 1", "src after 3"]);
    expect(commits.busy).toBe(false);
  });

  it("with intervalMs 500, commits at once when the interval has passed, and at once when draining", async () => {
    const { store, ledger, settled, commits } = commitsEvery(500);
    settled(1);
    await settle();
    jest.advanceTimersByTime(500);
    settled(2);
    await settle();
    expect(store.committed).toEqual(["src after 1", "src after 2"]);
    settled(3);
    await settle();
    expect(store.committed).toHaveLength(2);
    // Nothing more will come from the source: its last commit does not wait.
    commits.schedule(ledger, true);
    await settle();
    expect(store.committed).toEqual(["src after 1", "src after 2", "src after 3"]);
  });
});
