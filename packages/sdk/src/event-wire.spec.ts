import { isDeepStrictEqual } from "node:util";
import { StreamReader, unary } from "@flow/testing";
import * as grpc from "@grpc/grpc-js";
import type { ConsumerDefinition } from "./consumer";
import { type EventMajor, fromCloudEvent, toCloudEvent } from "./event-conversion";
import { majorOf, refusedEventsOf, withEventConversion } from "./event-wire";
import { createEvent, type FlowEvent } from "./flow-event";
import { AckStatus, ConsumerServiceClient as ConsumerV1 } from "./gen/consumer_service/v1/consumer";
import {
  ConsumerServiceService as ConsumerServiceV2,
  ConsumerServiceClient as ConsumerV2,
  type WriteRequest as WriteRequestV2,
  type WriteResponse as WriteResponseV2,
} from "./gen/consumer_service/v2/consumer";
import { Event, EventBatch } from "./gen/event/v1/event";
import { CloudEvent, CloudEventBatch } from "./gen/event/v2/event";
import {
  type ProcessedBatch as ProcessedBatchV1,
  ProcessorServiceService as ProcessorServiceV1,
  ProcessorServiceClient as ProcessorV1,
  type ProcessRequest as ProcessRequestV1,
  type ProcessResponse as ProcessResponseV1,
} from "./gen/processor_service/v1/processor";
import {
  type ProcessedBatch as ProcessedBatchV2,
  ProcessorServiceService as ProcessorServiceV2,
  ProcessorServiceClient as ProcessorV2,
  type ProcessRequest as ProcessRequestV2,
  type ProcessResponse as ProcessResponseV2,
} from "./gen/processor_service/v2/processor";
import { SourceServiceClient as SourceV1 } from "./gen/source_service/v1/source";
import {
  type ReadRequest as ReadRequestV2,
  type ReadResponse as ReadResponseV2,
  SourceServiceService as SourceServiceV2,
  SourceServiceClient as SourceV2,
} from "./gen/source_service/v2/source";
import type { ProcessorDefinition } from "./processor";
import { serveConsumer, serveProcessor, serveSource } from "./serve";
import { BatchByteLimit, type ReadContext, type SourceDefinition } from "./source";
import { readStartV2 } from "./test-support/core-streams";
import { Gen, random, v1Event, v2Event } from "./test-support/event-generators";
import { servedPerTest } from "./test-support/served-per-test";
import { testEvent, testEvents } from "./test-support/test-events";

// One service serving both majors of its family (the SDK's own generated code has v1 and v2),
// a v1 client and a v2 client on the same port: the handlers see FlowEvents either way.

const QUIET = { handshake: false, handleSignals: false } as const;
const v1Wire = (event: FlowEvent): FlowEvent => Event.decode(Event.encode(event).finish());
const v2Wire = (event: CloudEvent): CloudEvent => CloudEvent.decode(CloudEvent.encode(event).finish());

/** An event v2 FlowEvent cannot carry: an attribute named like a field of its own. */
function unconvertible(id: string): CloudEvent {
  return CloudEvent.fromPartial({
    id,
    source: "/tests/sdk",
    specVersion: "1.0",
    type: "com.example.test",
    attributes: { id: { attr: { $case: "ceString", value: "another id" } } },
    data: { $case: "binaryData", value: Buffer.from([1, 2, 3]) },
  });
}

/** Events with what only a careful conversion keeps: extensions of each type, big JSON integers. */
function richEvents(): FlowEvent[] {
  return [
    ...testEvents(1, 2),
    createEvent({
      id: "rich",
      source: "/tests/sdk",
      type: "com.example.rich",
      subject: "orders/42",
      time: { seconds: 2n ** 40n, nanos: 999_999_999 },
      dataschema: "https://example.com/schema",
      data: Buffer.from('{"amount":123456789012345678901234567890}'),
      datacontenttype: "application/json",
      extensions: {
        tenant: { value: { $case: "stringValue", value: "acme" } },
        retries: { value: { $case: "integerValue", value: -2147483648 } },
        signed: { value: { $case: "binaryValue", value: Buffer.from([0, 255]) } },
        seen: { value: { $case: "timestampValue", value: { seconds: -1n, nanos: 1 } } },
      },
    }),
    createEvent({ id: "empty", source: "/tests/sdk", type: "com.example.empty" }),
  ];
}

const served = servedPerTest();
const client = served.client.bind(served);

it("tells a definition's major from its package (1 when it names none)", () => {
  expect([ProcessorServiceV1, ProcessorServiceV2].map(majorOf)).toEqual([1, 2]);
  const unversioned = { describe: { ...ProcessorServiceV1.describe, path: "/pkg.Service/Describe" } };
  expect(majorOf(unversioned as unknown as grpc.ServiceDefinition)).toBe(1);
});

describe("a processor serving v1 and v2", () => {
  const stamp: ProcessorDefinition<object> = {
    name: "test-stamp",
    version: "1.0.0",
    configSchema: { type: "object" },
    process(event) {
      event.extensions.stamped = { value: { $case: "booleanValue", value: true } };
      return event;
    },
  };

  function open<Request, Response>(call: grpc.ClientDuplexStream<Request, Response>) {
    const reader = new StreamReader<Request, Response>(call);
    // `peers`: processor_service v2.1 (a v1 client has no such field and leaves it out).
    call.write({
      request: { $case: "start", value: { configJson: "{}", stageId: "stamp", peers: [] } },
    } as Request);
    return reader;
  }

  it("answers a v1 client and a v2 client alike, each in its own major", async () => {
    served.service = await serveProcessor(stamp, QUIET);
    const events = richEvents().map(v1Wire);

    const v1Call = client(ProcessorV1).process();
    const v1 = open<ProcessRequestV1, ProcessResponseV1>(v1Call);
    v1Call.write({ request: { $case: "batch", value: { sequence: 1n, batch: { events } } } });
    const v1Answer = (await v1.next()).response?.value as ProcessedBatchV1;

    const v2Call = client(ProcessorV2).process();
    const v2 = open<ProcessRequestV2, ProcessResponseV2>(v2Call);
    v2Call.write({
      request: { $case: "batch", value: { sequence: 1n, batch: { events: events.map(toCloudEvent) } } },
    });
    const v2Answer = (await v2.next()).response?.value as ProcessedBatchV2;

    const stamped = events.map((event) =>
      v1Wire({
        ...event,
        extensions: { ...event.extensions, stamped: { value: { $case: "booleanValue", value: true } } },
      }),
    );
    expect(v1Answer.batch?.events).toEqual(stamped);
    expect(v2Answer.batch?.events).toEqual(stamped.map((event) => v2Wire(toCloudEvent(event))));
    // The JSON payload is text_data on v2, its big integer as written.
    expect(v2Answer.batch?.events[2]?.data).toEqual({
      $case: "textData",
      value: '{"amount":123456789012345678901234567890}',
    });
    v1Call.end();
    v2Call.end();
    expect((await v1.status).code).toBe(grpc.status.OK);
    expect((await v2.status).code).toBe(grpc.status.OK);
  });

  it("dead-letters a v2 event FlowEvent cannot carry, as it came, with the reason, and processes the rest", async () => {
    const seen: string[] = [];
    const process = (event: FlowEvent): FlowEvent => {
      seen.push(event.id);
      return event;
    };
    served.service = await serveProcessor({ ...stamp, process }, QUIET);
    const call = client(ProcessorV2).process();
    const reader = open<ProcessRequestV2, ProcessResponseV2>(call);
    const refused = unconvertible("bad");
    const events = [toCloudEvent(testEvent(1)), refused, toCloudEvent(testEvent(2))];
    call.write({ request: { $case: "batch", value: { sequence: 7n, batch: { events } } } });
    const answer = (await reader.next()).response?.value as ProcessedBatchV2;
    expect(seen).toEqual(["event-1", "event-2"]);
    expect(answer.inputSequence).toBe(7n);
    expect(answer.failure).toBeUndefined();
    expect(answer.batch?.events.map((event) => event.id)).toEqual(["event-1", "event-2"]);
    expect(answer.deadLetters.map((letter) => [letter.event, letter.reason])).toEqual([
      [
        v2Wire(refused),
        'the processor reads events as FlowEvent (event v1), which cannot carry this one: attribute "id" has the name of a CloudEvents field the event has already; rename it',
      ],
    ]);
    call.end();
    expect((await reader.status).code).toBe(grpc.status.OK);
  });

  it("adds the refused events to what processBatch dead-letters, leaving its answer as it was", async () => {
    const own = [{ event: testEvent(9), reason: "own reason" }];
    served.service = await serveProcessor(
      { ...stamp, process: undefined, processBatch: (events) => ({ events, deadLetters: own }) },
      QUIET,
    );
    const call = client(ProcessorV2).process();
    const reader = open<ProcessRequestV2, ProcessResponseV2>(call);
    const events = [unconvertible("bad"), toCloudEvent(testEvent(1))];
    call.write({ request: { $case: "batch", value: { sequence: 1n, batch: { events } } } });
    const answer = (await reader.next()).response?.value as ProcessedBatchV2;
    expect(answer.batch?.events.map((event) => event.id)).toEqual(["event-1"]);
    expect(answer.deadLetters.map((letter) => [letter.event?.id, letter.reason.split(":")[0]])).toEqual([
      ["event-9", "own reason"],
      ["bad", "the processor reads events as FlowEvent (event v1), which cannot carry this one"],
    ]);
    expect(own).toHaveLength(1);
    call.end();
    await reader.status;
  });

  it("gives processEncoded the bytes as each stream carries them, with their major, and sends back what it returns", async () => {
    const received: { major: EventMajor; batch: Uint8Array }[] = [];
    served.service = await serveProcessor(
      {
        name: "test-forward",
        version: "1.0.0",
        configSchema: { type: "object" },
        processEncoded(batch, _state, major) {
          received.push({ major, batch: Buffer.from(batch) });
          return batch;
        },
      },
      QUIET,
    );
    const events = richEvents();
    const v2Bytes = CloudEventBatch.encode({ events: events.map(toCloudEvent) }).finish();

    const v2Call = client(ProcessorV2).process();
    const v2 = open<ProcessRequestV2, ProcessResponseV2>(v2Call);
    v2Call.write({
      request: { $case: "batch", value: { sequence: 1n, batch: CloudEventBatch.decode(v2Bytes) } },
    });
    const v2Answer = (await v2.next()).response?.value as ProcessedBatchV2;
    expect(received[0]).toEqual({ major: 2, batch: Buffer.from(v2Bytes) });
    expect(v2Answer.batch?.events).toEqual(CloudEventBatch.decode(v2Bytes).events);

    const v1Call = client(ProcessorV1).process();
    const v1 = open<ProcessRequestV1, ProcessResponseV1>(v1Call);
    v1Call.write({ request: { $case: "batch", value: { sequence: 1n, batch: { events } } } });
    await v1.next();
    expect(received[1]).toEqual({ major: 1, batch: Buffer.from(EventBatch.encode({ events }).finish()) });
    v1Call.end();
    v2Call.end();
    await Promise.all([v1.status, v2.status]);
  });
});

describe("a consumer serving v1 and v2", () => {
  function recorder() {
    const written: FlowEvent[][] = [];
    const definition: ConsumerDefinition<object> = {
      name: "test-recorder",
      version: "1.0.0",
      configSchema: { type: "object" },
      write: (events) => void written.push(events),
    };
    return { definition, written };
  }

  function open(call: grpc.ClientDuplexStream<WriteRequestV2, WriteResponseV2>) {
    const reader = new StreamReader<WriteRequestV2, WriteResponseV2>(call);
    call.write({
      request: { $case: "start", value: { configJson: "{}", stageId: "sink", acceptsBundles: false } },
    });
    return reader;
  }

  it("writes what a v2 client sends as the FlowEvents a v1 client would send", async () => {
    const { definition, written } = recorder();
    served.service = await serveConsumer(definition, QUIET);
    const events = richEvents().map(v1Wire);
    const call = client(ConsumerV2).write();
    const reader = open(call);
    call.write({
      request: { $case: "batch", value: { sequence: 1n, batch: { events: events.map(toCloudEvent) } } },
    });
    expect((await reader.next()).response).toEqual({
      $case: "ack",
      value: expect.objectContaining({ sequence: 1n, status: AckStatus.ACK_STATUS_WRITTEN, reason: "" }),
    });
    expect(written.map((batch) => batch.map(v1Wire))).toEqual([events]);

    const v1Call = client(ConsumerV1).write();
    const v1 = new StreamReader(v1Call);
    v1Call.write({ request: { $case: "start", value: { configJson: "{}", stageId: "sink" } } });
    v1Call.write({ request: { $case: "batch", value: { sequence: 1n, batch: { events } } } });
    await v1.next();
    expect(written[1]?.map(v1Wire)).toEqual(events);
    call.end();
    v1Call.end();
    await Promise.all([reader.status, v1.status]);
  });

  it("answers a batch holding an event FlowEvent cannot carry PERMANENT_FAILURE naming it, and writes none of it", async () => {
    const { definition, written } = recorder();
    served.service = await serveConsumer(definition, QUIET);
    const call = client(ConsumerV2).write();
    const reader = open(call);
    const events = [toCloudEvent(testEvent(1)), unconvertible("bad-1"), unconvertible("bad-2")];
    call.write({ request: { $case: "batch", value: { sequence: 4n, batch: { events } } } });
    call.write({
      request: { $case: "batch", value: { sequence: 5n, batch: { events: [toCloudEvent(testEvent(2))] } } },
    });
    const [refused, next] = [(await reader.next()).response, (await reader.next()).response];
    expect(refused).toEqual({
      $case: "ack",
      value: expect.objectContaining({
        sequence: 4n,
        status: AckStatus.ACK_STATUS_PERMANENT_FAILURE,
        reason:
          'event 1 (id "bad-1") (and 1 more) cannot be written: the consumer reads events as FlowEvent (event v1), which cannot carry it: attribute "id" has the name of a CloudEvents field the event has already; rename it',
      }),
    });
    expect(next).toMatchObject({
      $case: "ack",
      value: { sequence: 5n, status: AckStatus.ACK_STATUS_WRITTEN },
    });
    expect(written.map((batch) => batch.map((event) => event.id))).toEqual([["event-2"]]);
    call.end();
    expect((await reader.status).code).toBe(grpc.status.OK);
  });
});

describe("a source serving v1 and v2", () => {
  function counter() {
    const contexts: ReadContext[] = [];
    const definition: SourceDefinition<object> = {
      name: "test-counter",
      version: "1.0.0",
      configSchema: { type: "object" },
      async *read(_config, context) {
        contexts.push(context);
        const limit = new BatchByteLimit(context);
        let events = limit.startBatch();
        for (const event of richEvents()) {
          if (limit.admits(event)) events.push(event);
          else {
            yield { events, checkpoint: { position: Buffer.from(event.id) } };
            events = limit.startBatch();
          }
        }
        yield { events, checkpoint: { position: Buffer.from("end") } };
      },
    };
    return { definition, contexts };
  }

  function read(call: grpc.ClientDuplexStream<ReadRequestV2, ReadResponseV2>, maxBatchBytes: number) {
    const reader = new StreamReader<ReadRequestV2, ReadResponseV2>(call);
    call.write(readStartV2({ maxBatchBytes, stageId: "numbers" }));
    return reader;
  }

  it("sends a v2 client events v2, its batches cut to maxBatchBytes of the CloudEventBatch", async () => {
    const { definition, contexts } = counter();
    served.service = await serveSource(definition, QUIET);
    const events = richEvents().map(v1Wire);
    // Exactly the first three events' CloudEventBatch, which holds all four as an EventBatch.
    const limit = CloudEventBatch.encode({ events: events.slice(0, 3).map(toCloudEvent) }).finish().length;
    expect(EventBatch.encode({ events }).finish().length).toBeLessThanOrEqual(limit);

    const call = client(SourceV2).read();
    const reader = read(call, limit);
    const batches = [];
    for (;;) {
      const response = (await reader.next()).response;
      if (response?.$case !== "batch") break;
      batches.push(response.value.batch?.events ?? []);
    }
    expect(contexts[0]).toMatchObject({ eventMajor: 2, maxBatchBytes: limit });
    expect(batches.map((batch) => batch.length)).toEqual([3, 1]);
    expect(batches.flat().map(fromCloudEvent).map(v1Wire)).toEqual(events);
    expect(batches.flat()).toEqual(events.map((event) => v2Wire(toCloudEvent(event))));
    call.end();
    await reader.status;

    // A v1 stream with the same limit counts the smaller EventBatch: the fourth event fits.
    const v1Call = client(SourceV1).read();
    const v1 = new StreamReader(v1Call);
    v1Call.write({
      request: {
        $case: "start",
        value: {
          configJson: "{}",
          initialCredits: 100,
          maxBatchSize: 0,
          lingerMs: 0,
          stageId: "numbers",
          maxBatchBytes: BigInt(limit),
        },
      },
    });
    const first = (await v1.next()).response;
    expect(contexts[1]).toMatchObject({ eventMajor: 1 });
    expect(first?.$case === "batch" && first.value.batch?.events).toEqual(events);
    v1Call.end();
    await v1.status;
  });

  it("lists, on each major, every major it serves at the version its package vendored", async () => {
    served.service = await serveSource(counter().definition, QUIET);
    const [v1, v2] = [client(SourceV1), client(SourceV2)];
    const described = await Promise.all([
      unary<{ component?: { contracts: unknown[] } }>((done) => v1.describe({}, done)),
      unary<{ component?: { contracts: unknown[] } }>((done) => v2.describe({}, done)),
    ]);
    const both = [
      expect.objectContaining({ name: "source_service", major: 1, minor: 1 }),
      expect.objectContaining({ name: "source_service", major: 2, minor: 2 }),
    ];
    // component.proto: `contracts` has one entry per major the service serves, whichever is asked.
    expect(described.map((answer) => answer.component?.contracts)).toEqual([both, both]);
  });
});

describe("the direct path (the codec on the events' bytes) against the objects path", () => {
  type Method = grpc.MethodDefinition<unknown, unknown>;
  const families = {
    processor: ProcessorServiceV2 as unknown as grpc.ServiceDefinition,
    consumer: ConsumerServiceV2 as unknown as grpc.ServiceDefinition,
    source: SourceServiceV2 as unknown as grpc.ServiceDefinition,
  };
  const paths = (definition: grpc.ServiceDefinition) => ({
    direct: withEventConversion(definition) as Record<string, Method>,
    objects: withEventConversion(definition, "objects") as Record<string, Method>,
  });

  /** What a call gives: its result, or the error it throws. */
  function outcome(call: () => unknown): unknown {
    try {
      return { value: call() };
    } catch (error) {
      return { error: (error as Error).message };
    }
  }

  /** The same, by node's deep equality (symbol members and undefined ones included), jest's diff otherwise. */
  function expectSame(direct: unknown, objects: unknown): void {
    if (!isDeepStrictEqual(direct, objects)) expect(direct).toStrictEqual(objects);
  }

  const gen = new Gen(random(50));
  const cloudEvents = (count: number) =>
    Array.from({ length: count }, () =>
      gen.pick([() => v2Event(gen), () => toCloudEvent(v1Event(gen)), () => refusedV2(gen)])(),
    );

  /** A v2 event FlowEvent cannot carry, or one only the reference reads (an attribute of no value). */
  function refusedV2(gen: Gen): CloudEvent {
    const event = v2Event(gen);
    event.attributes[gen.pick(["id", "subject", "time", "kept"])] = { attr: undefined };
    return event;
  }

  it("reads and writes the events' bytes itself, building no CloudEvent", () => {
    const { direct } = paths(families.processor);
    const events = Array.from({ length: 20 }, () => v2Event(gen));
    const frame = ProcessorServiceV2.process.requestSerialize({
      request: { $case: "batch", value: { sequence: 1n, batch: { events } } },
    });
    const flowEvents = events.map(fromCloudEvent).map((event) => ({ ...event, extensions: {} }));
    const response = {
      response: {
        $case: "batch",
        value: { inputSequence: 1n, batch: { events: flowEvents }, deadLetters: [] },
      },
    };
    const decode = jest.spyOn(CloudEvent, "decode");
    const encode = jest.spyOn(CloudEvent, "encode");
    try {
      direct.process?.requestDeserialize(frame);
      direct.process?.responseSerialize(response);
      expect([decode.mock.calls.length, encode.mock.calls.length]).toEqual([0, 0]);
    } finally {
      decode.mockRestore();
      encode.mockRestore();
    }
  });

  it("decodes every request as the objects path does, refused events and their originals included", () => {
    const encode = {
      processor: (batch: unknown) =>
        ProcessorServiceV2.process.requestSerialize({
          request: { $case: "batch", value: { sequence: 3n, batch: batch as { events: CloudEvent[] } } },
        }),
      consumer: (batch: unknown) =>
        ConsumerServiceV2.write.requestSerialize({
          request: { $case: "batch", value: { sequence: 3n, batch: batch as { events: CloudEvent[] } } },
        }),
    };
    const starts = {
      processor: ProcessorServiceV2.process.requestSerialize({
        request: {
          $case: "start",
          value: { configJson: "{}", stageId: "s", peers: [], acceptsBundles: false },
        },
      }),
      consumer: ConsumerServiceV2.write.requestSerialize({
        request: { $case: "start", value: { configJson: "{}", stageId: "s", acceptsBundles: false } },
      }),
    };
    let refused = 0;
    for (const family of ["processor", "consumer"] as const) {
      const method = family === "processor" ? "process" : "write";
      const { direct, objects } = paths(families[family]);
      const read = (frame: Buffer) => {
        const a = outcome(() => direct[method]?.requestDeserialize(frame));
        const b = outcome(() => objects[method]?.requestDeserialize(frame));
        expectSame(a, b);
        const batch = (a as { value?: { request?: { value?: { batch?: object } } } }).value?.request?.value;
        if (batch) {
          expect(refusedEventsOf(batch)).toStrictEqual(
            refusedEventsOf((b as { value: { request: { value: object } } }).value.request.value),
          );
          refused += refusedEventsOf(batch).length;
        }
      };
      for (let i = 0; i < 300; i += 1) {
        const frame = encode[family]({ events: cloudEvents(gen.int(0, 12)) });
        read(frame);
        // The member twice, the batch with a field of its own, a start after the batch, cut, corrupted.
        read(Buffer.concat([frame, encode[family]({ events: cloudEvents(2) })]));
        read(encode[family]({ events: cloudEvents(2), _unknownFields: { 16: [Uint8Array.from([1])] } }));
        read(Buffer.concat([frame, starts[family]]));
        read(Buffer.concat([frame, Buffer.from([0x48, 0x01])]));
        read(frame.subarray(0, gen.int(0, frame.length)));
        const corrupted = Buffer.from(frame);
        corrupted[gen.int(0, corrupted.length - 1)] = gen.int(0, 255);
        read(corrupted);
      }
      read(starts[family]);
      read(Buffer.alloc(0));
    }
    expect(refused).toBeGreaterThan(100);
  });

  it("encodes every response as the objects path does, dead letters and a batch's unknown fields included", () => {
    const flowEvents = (count: number) => Array.from({ length: count }, () => v1Event(gen));
    const responses = (): [keyof typeof families, string, unknown][] => [
      [
        "processor",
        "process",
        {
          response: {
            $case: "batch",
            value: {
              inputSequence: 9n,
              batch: { events: flowEvents(gen.int(0, 12)) },
              deadLetters: flowEvents(gen.int(0, 2)).map((event) => ({ event, reason: "why" })),
              failure: gen.chance(0.2) ? { reason: "failed", retryable: true } : undefined,
            },
          },
        },
      ],
      [
        "processor",
        "process",
        {
          response: {
            $case: "batch",
            value: {
              inputSequence: 1n,
              batch: { events: flowEvents(3), _unknownFields: { 16: [Uint8Array.from([7])] } },
              deadLetters: [],
              _unknownFields: { 40: [Uint8Array.from([1])] },
            },
          },
        },
      ],
      [
        "source",
        "read",
        {
          response: {
            $case: "batch",
            value: {
              sequence: 4n,
              batch: { events: flowEvents(gen.int(1, 12)) },
              checkpoint: { position: gen.bytes() },
            },
          },
        },
      ],
      ["source", "read", { response: { $case: "exhausted", value: { lastSequence: 4n } } }],
      [
        "consumer",
        "write",
        {
          response: {
            $case: "ack",
            value: { sequence: 1n, status: AckStatus.ACK_STATUS_WRITTEN, reason: "" },
          },
        },
      ],
      [
        "processor",
        "process",
        // No FlowEvent: the encoder throws, in both paths alike.
        {
          response: {
            $case: "batch",
            value: { inputSequence: 1n, batch: { events: [{ id: 5 }] }, deadLetters: [] },
          },
        },
      ],
    ];
    const all = Object.fromEntries(
      Object.entries(families).map(([family, definition]) => [family, paths(definition)]),
    );
    for (let i = 0; i < 300; i += 1) {
      for (const [family, method, response] of responses()) {
        const { direct, objects } = all[family] as ReturnType<typeof paths>;
        expectSame(
          outcome(() => direct[method]?.responseSerialize(response)),
          outcome(() => objects[method]?.responseSerialize(response)),
        );
      }
    }
  });
});
