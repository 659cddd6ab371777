import { createEvent, type FlowEvent } from "@flow/sdk";
import { toCloudEvent } from "@flow/sdk/internal";
import * as grpc from "@grpc/grpc-js";
import { familyContract, type NegotiatedContract } from "../clients/family-contracts";
import { AckStatus } from "../gen/consumer_service/v1/consumer";
import { Event } from "../gen/event/v1/event";
import { CloudEvent } from "../gen/event/v2/event";
import { listenBare } from "../test-support/bare-grpc-server";
import { ConsumerLink, consumerStreams } from "./consumer-link";
import type { Delivery } from "./delivery";
import type { DeliveryPolicy } from "./delivery-policy";
import { ProcessorLink, processorStreams } from "./processor-link";
import { decodeEvents, type RawBatch } from "./raw-batch";
import { Router } from "./router";
import { SourceLink, sourceStreams } from "./source-link";
import { StageRecord } from "./stage-record";
import { planFrom, silentLogger } from "./test-support/fake-link-stream";

// Mixed pipelines over real gRPC: a source of one major, a consumer of the other, each served on
// its own major only (so a stream opened on the wrong path fails), with Core's links and Router
// between them converting on the edge.

const servers: grpc.Server[] = [];
afterAll(() => {
  for (const server of servers) server.forceShutdown();
});

const contract = (name: string, major: number): NegotiatedContract => ({
  name,
  major,
  version: `${major}.0.0`,
});

/** As the generated decoder gives back what it is sent (unknown fields and all), to compare with what a server received. */
const asReceivedV1 = (events: FlowEvent[]) =>
  events.map((event) => Event.decode(Event.encode(event as Event).finish()));
const asReceivedV2 = (events: FlowEvent[]) =>
  events.map((event) => CloudEvent.decode(CloudEvent.encode(toCloudEvent(event) as CloudEvent).finish()));

/** Ordinary events, and one with every kind of attribute the conversion carries. */
function sourceEvents(): FlowEvent[] {
  const rich = createEvent({
    id: "rich",
    source: "urn:test",
    type: "order.created",
    subject: "order/7",
    time: { seconds: 1_900_000_000n, nanos: 123_456_789 },
    data: {},
  });
  rich.data = Buffer.from('{"amount":12345678901234567890123,"n":-3}');
  rich.extensions = {
    traceparent: {
      value: { $case: "stringValue", value: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" },
    },
    attempt: { value: { $case: "integerValue", value: -2 } },
    blob: { value: { $case: "binaryValue", value: Buffer.from([0, 1, 255]) } },
  };
  return [
    rich,
    ...[1, 2, 3].map((n) => createEvent({ id: `e-${n}`, source: "urn:test", type: "t", data: { n } })),
  ];
}

/** `events` in the encoding of event `major` (v2: the CloudEvents Protobuf Format), with `extra` v2 events after the first. */
function inMajor(
  major: 1 | 2,
  events: FlowEvent[],
  extra: CloudEvent[] = [],
): { events: (Event | CloudEvent)[] } {
  if (major === 1) return { events: events as Event[] };
  const cloud = events.map((event) => toCloudEvent(event) as CloudEvent);
  return { events: [...cloud.slice(0, 1), ...extra, ...cloud.slice(1)] };
}

/** A source serving the Read rpc of `major` only, sending `batch` once. */
async function sourceServing(major: 1 | 2, batch: { events: (Event | CloudEvent)[] }): Promise<string> {
  const server = new grpc.Server();
  server.addService(familyContract("source", major).service, {
    describe: () => undefined,
    configure: () => undefined,
    read: (call: grpc.ServerDuplexStream<unknown, unknown>) => {
      call.once("data", () =>
        call.write({
          response: {
            $case: "batch",
            // The generated encoders write every field they know: v2's direct data path ones too
            // (zero: no reference), which v1's ignores.
            value: {
              sequence: 1n,
              batch,
              checkpoint: { position: Buffer.from("1"), description: "one" },
              eventCount: 0,
              batchBytes: 0n,
            },
          },
        }),
      );
      call.on("end", () => call.end());
    },
  });
  servers.push(server);
  return listenBare(server);
}

/** A consumer serving the Write rpc of `major` only, keeping what it is sent as decoded by that major's generated code. */
async function consumerServing(major: 1 | 2) {
  const server = new grpc.Server();
  const received: (Event | CloudEvent)[] = [];
  server.addService(familyContract("consumer", major).service, {
    describe: () => undefined,
    configure: () => undefined,
    write: (call: grpc.ServerDuplexStream<{ request?: { $case: string; value: never } }, unknown>) => {
      call.on("data", (request) => {
        if (request.request?.$case !== "batch") return;
        const { sequence, batch } = request.request.value as {
          sequence: bigint;
          batch: { events: (Event | CloudEvent)[] };
        };
        received.push(...batch.events);
        call.write({ response: { $case: "ack", value: { sequence, status: AckStatus.ACK_STATUS_WRITTEN } } });
      });
      call.on("end", () => call.end());
    },
  });
  servers.push(server);
  return { address: await listenBare(server), received };
}

/**
 * A processor serving the Process rpc of `major` only: it dead-letters each batch's first event
 * ("not this one") and passes the others on, as that major's generated code decodes them.
 */
async function processorServing(major: 1 | 2): Promise<string> {
  const server = new grpc.Server();
  server.addService(familyContract("processor", major).service, {
    describe: () => undefined,
    configure: () => undefined,
    process: (call: grpc.ServerDuplexStream<{ request?: { $case: string; value: never } }, unknown>) => {
      call.on("data", (request) => {
        if (request.request?.$case !== "batch") return;
        const { sequence, batch } = request.request.value as {
          sequence: bigint;
          batch: { events: (Event | CloudEvent)[] };
        };
        const [first, ...rest] = batch.events;
        call.write({
          response: {
            $case: "batch",
            value: {
              inputSequence: sequence,
              batch: { events: rest },
              deadLetters: first ? [{ event: first, reason: "not this one" }] : [],
              // v2's direct data path fields, zero (see sourceServing).
              outputCount: 0,
              outputBytes: 0n,
            },
          },
        });
      });
      call.on("end", () => call.end());
    },
  });
  servers.push(server);
  return listenBare(server);
}

/**
 * Source → Router → consumer, as a run wires them, over real streams at the given majors, until
 * the consumer has written a batch and `deadLetters` events were dead-lettered.
 */
async function pipeline(
  sourceMajor: 1 | 2,
  consumerMajor: 1 | 2,
  events: FlowEvent[],
  { extra = [] as CloudEvent[], deadLettered = 0, processorMajor = undefined as 1 | 2 | undefined } = {},
) {
  const plan = planFrom(`
metadata: { name: mixed }
sources: [{ id: src, address: "127.0.0.1:1" }]
processors: [{ id: rule, address: "127.0.0.1:3", inputs: [src] }]
consumers: [{ id: sink, address: "127.0.0.1:2", inputs: [${processorMajor ? "rule" : "src"}] }]
`);
  const stage = (id: string) =>
    plan.stages.find((candidate) => candidate.id === id) as (typeof plan.stages)[0];
  const [sourceStage, ruleStage, sinkStage] = [stage("src"), stage("rule"), stage("sink")];
  const sourceAddress = await sourceServing(sourceMajor, inMajor(sourceMajor, events, extra));
  const sink = await consumerServing(consumerMajor);
  const source = new StageRecord(sourceStage);
  const consumer = new StageRecord(sinkStage);
  const rule = new StageRecord(ruleStage);
  source.outputs = [processorMajor ? rule : consumer];
  rule.outputs = [consumer];
  const written: RawBatch[] = [];
  const deadLetters: { ids: string[]; reason: string }[] = [];
  let check = (): void => undefined;
  const finished = new Promise<void>((resolve) => {
    check = () => {
      if (written.length > 0 && deadLetters.length >= deadLettered) resolve();
    };
  });
  const report =
    <T extends unknown[]>(record: (...args: T) => void) =>
    (...args: T) => {
      record(...args);
      check();
    };
  const recover = async () => {
    throw new Error("no recovery in this test");
  };
  consumer.link = new ConsumerLink(
    {
      stage: sinkStage,
      endpoint: { target: sink.address, contract: contract("consumer_service", consumerMajor), recover },
      openStream: consumerStreams,
      logger: silentLogger,
      limit: consumer.limit,
    },
    {
      onWritten: report((_origins, batch) => written.push(batch)),
      onGiveUp: report((_delivery, reason) => deadLetters.push({ ids: [], reason })),
      onFatal: report((error) => deadLetters.push({ ids: [], reason: error.message })),
      onRefLost: report((reason) => deadLetters.push({ ids: [], reason })),
    },
  );
  consumer.link.open();
  const router = new Router({ split: () => undefined } as unknown as DeliveryPolicy, {
    closed: () => undefined,
    undeliverable: report((_to, delivery: Delivery, reason: string) =>
      deadLetters.push({ ids: decodeEvents(delivery.batch).map((event) => event.id), reason }),
    ),
  });
  const processed: { batch: RawBatch; letters: { id: string; reason: string }[] }[] = [];
  if (processorMajor) {
    rule.link = new ProcessorLink(
      {
        stage: ruleStage,
        endpoint: {
          target: await processorServing(processorMajor),
          contract: contract("processor_service", processorMajor),
          recover,
        },
        openStream: processorStreams,
        logger: silentLogger,
        limit: rule.limit,
      },
      {
        onOutput: (origins, batch, letters) => {
          processed.push({ batch, letters: letters.map(({ event, reason }) => ({ id: event.id, reason })) });
          router.deliver(origins, rule, batch);
        },
        onGiveUp: report((_delivery, reason) => deadLetters.push({ ids: [], reason })),
        onFatal: report((error) => deadLetters.push({ ids: [], reason: error.message })),
        onRefLost: report((reason) => deadLetters.push({ ids: [], reason })),
      },
    );
    rule.link.open();
  }
  const read: RawBatch[] = [];
  const sourceLink = new SourceLink(
    {
      stage: sourceStage,
      endpoint: { target: sourceAddress, contract: contract("source_service", sourceMajor) },
      openStream: sourceStreams,
      logger: silentLogger,
      maxBatchBytes: source.limit.maxBytes,
    },
    {
      onBatch: (sequence, batch) => {
        read.push(batch);
        router.deliver([{ source: "src", sequence }], source, batch);
      },
      onExhausted: () => undefined,
      onBroken: report((reason) => deadLetters.push({ ids: [], reason })),
    },
  );
  sourceLink.open(undefined, 1);
  try {
    await finished;
  } finally {
    sourceLink.abort();
    consumer.link.abort();
    rule.link?.abort();
  }
  return { read, processed, written, received: sink.received, deadLetters, source, consumer };
}

describe("a mixed edge over real gRPC streams", () => {
  it("v1 source → v2 consumer: each stream on its major's path, every event intact in the CloudEvents Protobuf Format", async () => {
    const events = sourceEvents();
    const { read, received, deadLetters, source, consumer } = await pipeline(1, 2, events);
    expect(deadLetters).toEqual([]);
    expect([source.major, consumer.major]).toEqual([1, 2]);
    expect(read.map((batch) => batch.major)).toEqual([1]);
    expect(received).toEqual(asReceivedV2(events));
    expect(consumer.counters).toMatchObject({ eventsIn: 4, contractMajor: 2 });
  });

  it("v2 source → v1 consumer: every event intact as event v1", async () => {
    const events = sourceEvents();
    const { read, received, deadLetters } = await pipeline(2, 1, events);
    expect(deadLetters).toEqual([]);
    expect(read.map((batch) => batch.major)).toEqual([2]);
    expect(received).toEqual(asReceivedV1(events));
  });

  it("v2 source → v1 consumer: an event v1 cannot carry is dead-lettered at the consumer with the reason, its neighbours written", async () => {
    const events = sourceEvents();
    const odd = CloudEvent.create({
      id: "odd",
      source: "urn:test",
      specVersion: "1.0",
      type: "t",
      attributes: { time: { attr: { $case: "ceBoolean", value: true } } },
    });
    const { received, deadLetters, written } = await pipeline(2, 1, events, {
      extra: [odd],
      deadLettered: 1,
    });
    expect(deadLetters).toEqual([
      {
        ids: ["odd"],
        reason: expect.stringMatching(
          /^event v2 cannot convert to event v1, which consumer "sink" speaks: .*time/,
        ),
      },
    ]);
    expect(received).toEqual(asReceivedV1(events));
    expect(written.map((batch) => [batch.count, batch.major])).toEqual([[4, 1]]);
  });

  it("v1 source → v2 processor → v1 consumer: the processor's output and its dead letters are read in v2, converted back", async () => {
    const events = sourceEvents();
    const { processed, received, deadLetters } = await pipeline(1, 1, events, { processorMajor: 2 });
    expect(deadLetters).toEqual([]);
    expect(processed.map(({ batch, letters }) => [batch.major, batch.count, letters])).toEqual([
      [2, 3, [{ id: "rich", reason: "not this one" }]],
    ]);
    expect(received).toEqual(asReceivedV1(events.slice(1)));
  });

  it("v2 source → v1 processor → v2 consumer: the same, the other way round", async () => {
    const events = sourceEvents();
    const { processed, received } = await pipeline(2, 2, events, { processorMajor: 1 });
    expect(processed.map(({ batch, letters }) => [batch.major, batch.count, letters])).toEqual([
      [1, 3, [{ id: "rich", reason: "not this one" }]],
    ]);
    expect(received).toEqual(asReceivedV2(events.slice(1)));
  });
});
