import { once } from "node:events";
import { createEvent } from "@flow/sdk";
import type { ProcessRequest } from "../gen/processor_service/v1/processor";
import type { Origin } from "./delivery";
import { ProcessorLink } from "./processor-link";
import { decodeEvents } from "./raw-batch";
import type { LinkRequest, ProcessorAnswer } from "./stream-codecs";
import { batchOf, fakeEndpoint, fakeStreams, planFrom, silentLogger } from "./test-support/fake-link-stream";

function processorLink() {
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
  const processor = new ProcessorLink(
    {
      stage,
      endpoint: fakeEndpoint(),
      openStream: streams,
      logger: silentLogger,
      limit: { maxEvents: 100, maxBytes: 1_000_000 },
    },
    {
      onOutput: (origins, batch, letters) =>
        outputs.push({
          origins,
          ids: decodeEvents(batch).map((event) => event.id),
          letters: letters.map((letter) => `${letter.event.id}: ${letter.reason}`),
        }),
      onGiveUp: (_delivery, reason) => givenUp.push(reason),
      onFatal: (error) => fatal.push(error.message),
    },
  );
  processor.open();
  return { processor, stream: streams.last(), outputs, givenUp, fatal };
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
    expect(givenUp).toEqual(["schema mismatch"]);
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
