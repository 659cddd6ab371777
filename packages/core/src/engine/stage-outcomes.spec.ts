import { createEvent, type FlowEvent } from "@flow/sdk";
import type { ConsumerLink } from "./consumer-link";
import type { DeadLetter } from "./dead-letter-file";
import type { Origin } from "./delivery";
import { atLeastOnce } from "./delivery-policy";
import type { ProcessorLink } from "./processor-link";
import { decodeEvents, encodeEvents, type RawBatch } from "./raw-batch";
import { referenceBatch } from "./reference-batch";
import { RunStages } from "./run-stages";
import type { SourceNode } from "./source-node";
import { StageOutcomes } from "./stage-outcomes";
import type { StageRecord } from "./stage-record";
import { checkpoint } from "./test-support/fake-answers";
import { batchOf, planFrom, silentLogger } from "./test-support/fake-link-stream";
import { fakeSourceNode } from "./test-support/fake-sources";

/** src -> rule -> sink, the links of rule and sink recording what they are sent. */
function outcomes(options: { diskFull?: boolean; now?: number } = {}) {
  const stages = new RunStages(
    planFrom(`
metadata: { name: t }
sources: [{ id: src, address: "127.0.0.1:1" }]
processors: [{ id: rule, address: "127.0.0.1:2", inputs: [src] }]
consumers: [{ id: sink, address: "127.0.0.1:3", inputs: [rule] }]
`),
  );
  const record = (id: string) => stages.records.get(id) as StageRecord;
  const sent: { to: string; origins: Origin[]; ids: string[] }[] = [];
  for (const id of ["rule", "sink"]) {
    record(id).link = {
      send: (origins: Origin[], batch: RawBatch) =>
        sent.push({ to: id, origins, ids: decodeEvents(batch).map((event) => event.id) }),
    } as unknown as ProcessorLink | ConsumerLink;
  }
  const { source } = fakeSourceNode(record("src"));
  const policy = atLeastOnce(new Map([["src", source]]));
  const letters: DeadLetter[] = [];
  const settled: SourceNode[] = [];
  const failures: Error[] = [];
  const latencies: [string, number][] = [];
  const stage = new StageOutcomes({
    records: stages.records,
    policy,
    logger: silentLogger,
    metrics: { observeEventLatency: (id, seconds) => latencies.push([id, seconds]) },
    deadLetters: () => ({
      write: (written: readonly DeadLetter[]) => {
        if (options.diskFull) throw new Error("cannot write the dead-letter file: the disk is full (ENOSPC)");
        letters.push(...written);
      },
    }),
    settled: (from) => settled.push(from),
    fail: (error) => failures.push(error),
    refLost: (reason) => failures.push(new Error(reason)),
    now: () => options.now ?? Date.now(),
  });
  return { stage, record, source, sent, letters, settled, failures, latencies };
}

const fromSrc: Origin[] = [{ source: "src", sequence: 1n }];

describe("StageOutcomes", () => {
  it("counts a source's batch and sends it to each stage reading it, as a delivery its source waits for", () => {
    const { stage, record, source, sent } = outcomes();
    stage.read(source, 1n, batchOf(2, "a"), checkpoint(1));
    expect(record("src").counters).toMatchObject({ eventsOut: 2, batchesIn: 1, inFlight: 1 });
    expect(record("rule").counters.eventsIn).toBe(2);
    expect(sent).toEqual([{ to: "rule", origins: fromSrc, ids: ["a-1", "a-2"] }]);
    expect(source.ledger.inFlight).toBe(1);
  });

  it("sends a processor's output on, and once it is written the source it came from settles", () => {
    const { stage, record, source, sent, settled } = outcomes();
    stage.read(source, 1n, batchOf(2, "a"), checkpoint(1));
    stage.processed(record("rule"), fromSrc, batchOf(1, "a"), []);
    expect(sent.at(-1)).toEqual({ to: "sink", origins: fromSrc, ids: ["a-1"] });
    expect(settled).toEqual([]);
    stage.written(record("sink"), fromSrc, batchOf(1, "a"));
    expect(record("sink").counters.eventsOut).toBe(1);
    expect(settled).toEqual([source]);
    expect(source.ledger.inFlight).toBe(0);
  });

  it("closes the deliveries of a processor's output filtered to nothing", () => {
    const { stage, record, source, sent, settled } = outcomes();
    stage.read(source, 1n, batchOf(2), checkpoint(1));
    stage.processed(record("rule"), fromSrc, encodeEvents([]), []);
    expect(sent.map((batch) => batch.to)).toEqual(["rule"]);
    expect(settled).toEqual([source]);
  });

  it("writes a processor's dead letters before its output goes on", () => {
    const { stage, record, source, sent, letters } = outcomes();
    stage.read(source, 1n, batchOf(2, "a"), checkpoint(1));
    const [kept, dropped] = decodeEvents(batchOf(2, "a")) as [FlowEvent, FlowEvent];
    stage.processed(record("rule"), fromSrc, encodeEvents([kept]), [
      { event: dropped, reason: "amount is not a number" },
    ]);
    expect(letters.map((letter) => [letter.stage, letter.event.id, letter.reason])).toEqual([
      ["rule", "a-2", "amount is not a number"],
    ]);
    expect(record("rule").counters.deadLetters).toBe(1);
    expect(sent.at(-1)?.to).toBe("sink");
  });

  it("fails the run when dead letters cannot be written, and the batch goes nowhere (its checkpoint never commits)", () => {
    const { stage, record, source, sent, failures, settled } = outcomes({ diskFull: true });
    stage.read(source, 1n, batchOf(2, "a"), checkpoint(1));
    const [dropped] = decodeEvents(batchOf(1, "a")) as [FlowEvent];
    stage.processed(record("rule"), fromSrc, batchOf(1, "b"), [{ event: dropped, reason: "bad" }]);
    stage.giveUp(
      record("sink"),
      { origins: fromSrc, batch: batchOf(1), attempts: 3, sentAt: 0 },
      "timed out",
    );
    expect(failures.map((error) => error.message)).toEqual([
      "cannot write the dead-letter file: the disk is full (ENOSPC)",
      "cannot write the dead-letter file: the disk is full (ENOSPC)",
    ]);
    expect(sent.map((batch) => batch.to)).toEqual(["rule"]);
    expect(settled).toEqual([]);
    expect(record("rule").counters.deadLetters).toBe(0);
    expect(source.ledger.inFlight).toBe(1);
  });

  it("turns a batch given up on into dead letters with the reason, then closes its deliveries", () => {
    const { stage, record, source, letters, settled } = outcomes();
    stage.read(source, 1n, batchOf(2, "a"), checkpoint(1));
    stage.giveUp(
      record("rule"),
      { origins: fromSrc, batch: batchOf(2, "a"), attempts: 3, sentAt: 0 },
      "no answer",
    );
    expect(letters.map((letter) => [letter.stage, letter.event.id, letter.reason])).toEqual([
      ["rule", "a-1", "no answer"],
      ["rule", "a-2", "no answer"],
    ]);
    expect(record("rule").counters).toMatchObject({ errors: 1, deadLetters: 2 });
    expect(settled).toEqual([source]);
  });

  it("observes a written batch's latency: the age of its first event when it was written", () => {
    const { stage, record, latencies } = outcomes({ now: 12_500 });
    const created = createEvent({ id: "e", source: "test", type: "t", time: new Date(10_000) });
    stage.written(record("sink"), [], encodeEvents([created]));
    expect(latencies).toEqual([["sink", 2.5]]);
  });

  it("fails the run on a link's fatal error, even called detached as the links call it", () => {
    const { stage, failures } = outcomes();
    const { fatal } = stage;
    fatal(new Error("the stream answered a batch it was never sent"));
    expect(failures.map((error) => error.message)).toEqual(["the stream answered a batch it was never sent"]);
  });

  it("fails the run, naming the bug, when a batch known only by reference would reach a stage that cannot take it", () => {
    const { stage, source, sent, failures } = outcomes();
    // "rule" was never negotiated at v2 with features.direct_path: no upstream should send it references.
    stage.read(source, 1n, referenceBatch({ stream: "src-1", handle: 1n }, 2, 200), checkpoint(1));
    expect(failures.map((error) => error.message)).toEqual([
      'source "src" sent a batch by reference (stream src-1 handle 1) to processor "rule", which speaks event v1, not v2: the edge is not direct, so Core should not have named it a peer; this is a bug in Flow Core',
    ]);
    expect(sent).toEqual([]);
  });
});
