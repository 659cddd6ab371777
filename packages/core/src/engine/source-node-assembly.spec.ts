import type { UserError } from "@flow/errors";
import { RunStages } from "./run-stages";
import type { SourceNode } from "./source-node";
import type { StageRecord } from "./stage-record";
import { checkpoint } from "./test-support/fake-answers";
import { batchOf, planFrom, settle, until } from "./test-support/fake-link-stream";
import { fakeSourceNode, oneSourceStages, sourceRequests } from "./test-support/fake-sources";

function source() {
  const stages = oneSourceStages(3);
  const record = stages.records.get("src") as StageRecord;
  const heard: string[] = [];
  const failures: UserError[] = [];
  const said = (what: string) => (node: SourceNode) => heard.push(`${what} ${node.id}`);
  const fake = fakeSourceNode(record, {
    onBatch: (node, sequence, batch, at) =>
      heard.push(`batch ${node.id} ${sequence} (${batch.count}) ${at.description}`),
    onExhausted: said("exhausted"),
    onBroken: (node, reason, permanent) =>
      heard.push(`broken ${node.id}${permanent ? " for good" : ""}: ${reason}`),
    onCommitFailed: (error) => failures.push(error),
    onCommitSettled: said("commit settled"),
  });
  return { ...fake, record, heard, failures };
}

const requests = (fake: ReturnType<typeof source>, kind: string) => sourceRequests(fake.streams.last(), kind);

describe("assembleSourceNode", () => {
  it("opens the stream after the committed checkpoint, with the stage's credits and batch byte limit", () => {
    const fake = source();
    fake.source.commits.committed = checkpoint(7);
    fake.source.open();
    expect(requests(fake, "start")[0]).toMatchObject({
      checkpoint: checkpoint(7),
      initialCredits: 3,
      maxBatchBytes: BigInt(fake.record.limit.maxBytes),
    });
  });

  it("passes a batch on with its node, its credit counted used, so a top-up grants it again", async () => {
    const fake = source();
    fake.source.open();
    fake.streams.last().reply({ kind: "batch", sequence: 1n, batch: batchOf(2), checkpoint: checkpoint(1) });
    expect(fake.heard).toEqual(["batch src 1 (2) after 1"]);
    fake.source.grant(0, false);
    await settle();
    expect(requests(fake, "credit")).toEqual([{ batches: 1 }]);
  });

  it("tells the source a checkpoint once it is durable, then says the commit settled", async () => {
    const fake = source();
    fake.source.open();
    const { ledger, commits } = fake.source;
    ledger.opened(1n, checkpoint(1), 2);
    ledger.close(1n);
    commits.schedule(ledger, true);
    await until(() => fake.heard.includes("commit settled src"));
    expect(fake.store.committed).toEqual(["src after 1"]);
    expect(requests(fake, "commit")).toEqual([{ sequence: 1n, checkpoint: checkpoint(1) }]);
  });

  it("reports the stream's end, a break and a failed commit, each with the node", async () => {
    const fake = source();
    fake.source.open();
    fake.streams.last().reply({ kind: "exhausted", lastSequence: 0n });
    fake.streams.last().fail("connection reset");
    fake.store.refuse = new Error("disk I/O error");
    fake.source.ledger.opened(1n, checkpoint(1), 1);
    fake.source.ledger.close(1n);
    fake.source.commits.schedule(fake.source.ledger, true);
    await until(() => fake.failures.length === 1);
    expect(fake.heard.slice(0, 2)).toEqual(["exhausted src", "broken src: stream failed: connection reset"]);
    expect(fake.failures[0]?.message).toBe('cannot commit the checkpoint of "src": disk I/O error');
  });

  it("commits at the source's own commitIntervalMs, over the run's", async () => {
    jest.useFakeTimers({ now: 1_000_000, doNotFake: ["setImmediate", "nextTick", "queueMicrotask"] });
    try {
      const stages = new RunStages(
        planFrom(`
metadata: { name: t }
sources: [{ id: src, address: "127.0.0.1:1", commitIntervalMs: 500 }]
consumers: [{ id: sink, address: "127.0.0.1:2", inputs: [src] }]
`),
      );
      const fake = fakeSourceNode(stages.records.get("src") as StageRecord, {}, { commitIntervalMs: 0 });
      const { ledger, commits } = fake.source;
      fake.source.open();
      for (const n of [1, 2]) {
        ledger.opened(BigInt(n), checkpoint(n), 1);
        ledger.close(BigInt(n));
        commits.schedule(ledger, false);
        await settle();
      }
      expect(fake.store.committed).toEqual(["src after 1"]);
      jest.advanceTimersByTime(500);
      await settle();
      expect(fake.store.committed).toEqual(["src after 1", "src after 2"]);
    } finally {
      jest.useRealTimers();
    }
  });
});
