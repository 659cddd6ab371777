import { once } from "node:events";
import { createEvent } from "@flow/sdk";
import type { Peer } from "../gen/peer/v1/peer";
import type { ProcessRequest } from "../gen/processor_service/v2/processor";
import type { Origin } from "./delivery";
import { ProcessorLink } from "./processor-link";
import { decodeEvents, type RawBatch } from "./raw-batch";
import { referenceBatch } from "./reference-batch";
import type { LinkRequest, ProcessorAnswer } from "./stream-codecs";
import { batchOf, fakeEndpoint, fakeStreams, planFrom, silentLogger } from "./test-support/fake-link-stream";
import { samplePeer } from "./test-support/sample-peer";

function processorLink({ major, peers }: { major?: number; peers?: () => Peer[] } = {}) {
  const plan = planFrom(`
metadata: { name: t }
sources: [{ id: src, address: "127.0.0.1:1" }]
processors:
  - { id: proc, address: "127.0.0.1:2", inputs: [src], retry: { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 1 } }
consumers: [{ id: sink, address: "127.0.0.1:3", inputs: [proc] }]
`);
  const stage = plan.stages.find((s) => s.id === "proc") as (typeof plan.stages)[number];
  const streams = fakeStreams<LinkRequest<ProcessRequest>, ProcessorAnswer | undefined>();
  const outputs: { origins: Origin[]; ids: string[]; letters: string[] }[] = [];
  const givenUp: string[] = [];
  const fatal: string[] = [];
  const refsLost: string[] = [];
  const processor = new ProcessorLink(
    {
      stage,
      endpoint: fakeEndpoint(major),
      openStream: streams,
      logger: silentLogger,
      limit: { maxEvents: 100, maxBytes: 1_000_000 },
      peers,
    },
    {
      onOutput: (origins, batch, letters) =>
        outputs.push({
          origins,
          ids: batch.ref ? [`ref ${batch.ref.handle}`] : decodeEvents(batch).map((event) => event.id),
          letters: letters.map((letter) => `${letter.event.id}: ${letter.reason}`),
        }),
      onGiveUp: (delivery, reason) =>
        givenUp.push(`${reason}: ${decodeEvents(delivery.batch).map((event) => event.id)}`),
      onFatal: (error) => fatal.push(error.message),
      onRefLost: (reason) => refsLost.push(reason),
    },
  );
  processor.open();
  return { processor, stream: streams.last(), outputs, givenUp, fatal, refsLost };
}

const origin: Origin[] = [{ source: "src", sequence: 1n }];

describe("ProcessorLink", () => {
  it("passes the processed batch on with the origins of its input, dead letters apart", () => {
    const { processor, stream, outputs } = processorLink();
    processor.send(origin, batchOf(3));
    const dead = createEvent({ id: "e-2", source: "test", type: "t" });
    stream.reply({
      inputSequence: 1n,
      batch: batchOf(2, "out"),
      deadLetters: [{ event: dead, reason: "no amount" }],
    });
    expect(outputs).toEqual([{ origins: origin, ids: ["out-1", "out-2"], letters: ["e-2: no amount"] }]);
    expect(processor.held).toBe(0);
  });

  it("an input filtered to nothing is answered too: an empty batch goes on", () => {
    const { processor, stream, outputs } = processorLink();
    processor.send(origin, batchOf(3));
    stream.reply({ inputSequence: 1n, batch: batchOf(0), deadLetters: [] });
    expect(outputs).toEqual([{ origins: origin, ids: [], letters: [] }]);
  });

  it("gives a batch up on a permanent failure, retries a retryable one", async () => {
    const { processor, stream, givenUp } = processorLink();
    processor.send(origin, batchOf(1));
    stream.reply({
      inputSequence: 1n,
      batch: batchOf(0),
      deadLetters: [],
      failure: { retryable: true, reason: "downstream busy" },
    });
    await once(stream, "written");
    const resent = stream.written.filter((message) => "sequence" in message);
    expect(resent).toHaveLength(2);
    stream.reply({
      inputSequence: 2n,
      batch: batchOf(0),
      deadLetters: [],
      failure: { retryable: false, reason: "schema mismatch" },
    });
    expect(givenUp).toEqual(["schema mismatch: e-1"]);
  });

  it("fails the run at once, saying so, when an answer names a batch that was never sent", () => {
    const { processor, stream, outputs, fatal } = processorLink();
    processor.send(origin, batchOf(1));
    stream.reply({ inputSequence: 7n, batch: batchOf(1), deadLetters: [] });
    expect(fatal).toEqual(['stage "proc": the service answered batch 7, which was never sent (awaiting 1)']);
    expect(outputs).toEqual([]);
  });

  it("fails the run when a batch is answered twice", () => {
    const { processor, stream, outputs, fatal } = processorLink();
    processor.send(origin, batchOf(1));
    processor.send(origin, batchOf(1));
    stream.reply({ inputSequence: 1n, batch: batchOf(1), deadLetters: [] });
    stream.reply({ inputSequence: 1n, batch: batchOf(1), deadLetters: [] });
    expect(fatal).toEqual([
      'stage "proc": the service answered batch 1, which was answered already (awaiting 2)',
    ]);
    expect(outputs).toHaveLength(1);
  });
});

describe("ProcessorLink on the direct data path", () => {
  const peer = samplePeer();
  const ref = (handle: number) => ({ stream: "up-1", handle: BigInt(handle) });
  const answer = (extra: Partial<ProcessorAnswer>): ProcessorAnswer => ({
    inputSequence: 1n,
    batch: batchOf(0, "none", 1, 2),
    deadLetters: [],
    ...extra,
  });

  it("opens a v2 stream with the peers it pushes to, asked at every open; a v1 stream never gets any", () => {
    let asked = 0;
    const peers = () => {
      asked += 1;
      return [peer];
    };
    const { stream } = processorLink({ major: 2, peers });
    expect(stream.written[0]).toEqual({
      start: {
        request: {
          $case: "start",
          value: { configJson: "{}", stageId: "proc", peers: [peer], acceptsBundles: false },
        },
      },
    });
    expect(asked).toBe(1);
    const v1 = processorLink({ major: 1, peers });
    expect(v1.stream.written[0]).toEqual({
      start: {
        request: {
          $case: "start",
          value: { configJson: "{}", stageId: "proc", peers: [], acceptsBundles: false },
        },
      },
    });
  });

  it("passes on an output pushed to the peers (output_ref) as that reference, and sends an input by reference as one", () => {
    const { processor, stream, outputs } = processorLink({ major: 2 });
    processor.send(origin, referenceBatch(ref(1), 3, 300));
    expect(stream.written[1]).toEqual({ sequence: 1n, batch: referenceBatch(ref(1), 3, 300) });
    stream.reply(answer({ batch: referenceBatch({ stream: "proc-1", handle: 1n }, 2, 200) }));
    expect(outputs).toEqual([{ origins: origin, ids: ["ref 1"], letters: [] }]);
  });

  it("retries a failed input sent by reference through Core with its returned events, and gives it up with them", async () => {
    const { processor, stream, givenUp } = processorLink({ major: 2 });
    processor.send(origin, referenceBatch(ref(1), 2, 200));
    stream.reply(
      answer({ failure: { retryable: true, reason: "busy" }, returned: batchOf(2, "back", 1, 2) }),
    );
    await once(stream, "written");
    const retried = stream.written.at(-1) as { sequence: bigint; batch: RawBatch };
    expect(retried.batch.ref).toBeUndefined();
    expect(decodeEvents(retried.batch).map((event) => event.id)).toEqual(["back-1", "back-2"]);
    // Sent with its events now, the retry needs nothing returned.
    stream.reply(answer({ inputSequence: 2n, failure: { retryable: false, reason: "bad" } }));
    expect(givenUp).toEqual(["bad: back-1,back-2"]);
  });

  it("fails the run when a failed input sent by reference comes back without its events", () => {
    const { processor, stream, fatal, givenUp } = processorLink({ major: 2 });
    processor.send(origin, referenceBatch(ref(4), 2, 200));
    stream.reply(answer({ failure: { retryable: false, reason: "bad" } }));
    expect(fatal).toEqual([
      'stage "proc": the service failed batch 1, which it was sent by reference (stream up-1 handle 4), without returning its events in ProcessedBatch.returned',
    ]);
    expect(givenUp).toEqual([]);
  });

  it("reports an input whose events never came (ref_missing) to the run", () => {
    const { processor, stream, outputs, refsLost } = processorLink({ major: 2 });
    processor.send(origin, referenceBatch(ref(2), 2, 200));
    stream.reply(answer({ refMissing: true }));
    expect(refsLost).toEqual([
      'stage "proc": the events of batch 1, sent by reference (stream up-1 handle 2), never reached the service (ref_missing)',
    ]);
    expect(outputs).toEqual([]);
  });
});
