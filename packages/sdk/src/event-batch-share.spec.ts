import { encodedEventBytes } from "./encoded-event-size";
import { batchShareIn, cloudEventBatchShare, eventBatchShare } from "./event-batch-share";
import { toCloudEvent } from "./event-conversion";
import { createEvent, type FlowEvent } from "./flow-event";
import { Event, EventBatch, Timestamp } from "./gen/event/v1/event";
import { CloudEventBatch } from "./gen/event/v2/event";
import { testEvent } from "./test-support/test-events";

/** Events that exercise every field, default values, multi-byte text and every varint length. */
function variedEvents(): FlowEvent[] {
  const events: FlowEvent[] = [
    testEvent(1),
    createEvent({ id: "x", source: "", type: "" }),
    createEvent({ id: "é漢字😀\ud800", source: "/ü", type: "t", subject: "s".repeat(200) }),
    createEvent({
      id: "ts",
      source: "/s",
      type: "t",
      time: { seconds: 0n, nanos: 0 },
      dataschema: "https://example.com/schema",
      data: Buffer.alloc(20_000, 1),
    }),
    createEvent({
      id: "neg",
      source: "/s",
      type: "t",
      time: { seconds: -62_135_596_800n, nanos: 999_999_999 },
    }),
    createEvent({
      id: "\udc00a\ud83d",
      source: "/s",
      type: "t",
      time: { seconds: 9_007_199_254_740_993n, nanos: 1 },
    }),
    createEvent({
      id: "ext",
      source: "/s",
      type: "t",
      extensions: {
        flag: { value: { $case: "booleanValue", value: false } },
        count: { value: { $case: "integerValue", value: -1 } },
        zero: { value: { $case: "integerValue", value: 0 } },
        big: { value: { $case: "integerValue", value: 2_147_483_647 } },
        text: { value: { $case: "stringValue", value: "" } },
        uri: { value: { $case: "uriValue", value: "https://ä.example" } },
        ref: { value: { $case: "uriRefValue", value: "/r" } },
        bin: { value: { $case: "binaryValue", value: Buffer.alloc(130, 7) } },
        at: { value: { $case: "timestampValue", value: { seconds: 1n, nanos: 0 } } },
        unset: {},
      },
    }),
  ];
  for (const seconds of [
    1n,
    127n,
    128n,
    16_384n,
    2n ** 28n,
    2n ** 35n - 1n,
    2n ** 35n,
    2n ** 49n,
    2n ** 56n,
    2n ** 63n - 1n,
  ]) {
    events.push(createEvent({ id: `s-${seconds}`, source: "/s", type: "t", time: { seconds, nanos: 0 } }));
  }
  for (const length of [0, 1, 126, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152]) {
    events.push(createEvent({ id: `len-${length}`, source: "/s", type: "t", data: Buffer.alloc(length, 2) }));
  }
  return events;
}

describe("eventBatchShare", () => {
  it("is what the codec writes for each event, and the batch is their sum", () => {
    const events = variedEvents();
    expect(events.map((event) => eventBatchShare(event))).toEqual(
      events.map((event) => encodedEventBytes(event)),
    );
    const sum = events.reduce((total, event) => total + eventBatchShare(event), 0);
    expect(sum).toBe(EventBatch.encode({ events: events as Event[] }).finish().length);
  });

  it("counts every field of the vendored Event, including one a newer minor added", () => {
    // Every string field set, whatever fields the vendored copy of event has: a field this count
    // does not know must still be counted (by encoding) once `flow proto upgrade` vendors it.
    const event = createEvent({ id: "all", source: "/s", type: "t", data: "d" });
    const fields: Record<string, unknown> = event as unknown as Record<string, unknown>;
    for (const [field, value] of Object.entries(Event.create()))
      if (value === "") fields[field] = `${field}!`;
    expect(eventBatchShare(event)).toBe(encodedEventBytes(event));
  });

  it("counts the unknown fields a decoded event kept", () => {
    const encoded = Buffer.concat([
      Event.encode(testEvent(3) as Event).finish(),
      // Field 99, length-delimited, 3 bytes: a field from a newer minor this copy does not know.
      Buffer.from([0x9a, 0x06, 3, 1, 2, 3]),
    ]);
    const decoded = Event.decode(encoded);
    expect(eventBatchShare(decoded)).toBe(encodedEventBytes(decoded));
    expect(eventBatchShare(decoded)).toBe(encodedEventBytes(testEvent(3)) + 6);
  });
});

describe("cloudEventBatchShare", () => {
  /** The varied events, and what only v2 writes differently: protobuf data, shadowing extensions. */
  function v2Varied(): FlowEvent[] {
    const text = { value: { $case: "stringValue" as const, value: "x" } };
    return [
      ...variedEvents(),
      createEvent({
        id: "proto",
        source: "/s",
        type: "t",
        datacontenttype: "application/protobuf",
        dataschema: "type.googleapis.com/com.example.Order",
        data: Buffer.from([8, 1]),
      }),
      createEvent({
        id: "proto-no-schema",
        source: "/s",
        type: "t",
        datacontenttype: "application/protobuf",
        data: "x",
      }),
      createEvent({
        id: "shadow",
        source: "/s",
        type: "t",
        extensions: { subject: text, id: text, data: text, ok: text },
      }),
      createEvent({
        id: "text",
        source: "/s",
        type: "t",
        datacontenttype: "text/plain",
        data: Buffer.from([0xc3, 0x28]),
      }),
    ];
  }

  it("is what the codec writes for each event converted, and the CloudEventBatch is their sum", () => {
    const events = v2Varied();
    expect(events.map((event) => cloudEventBatchShare(event))).toEqual(
      events.map((event) => encodedEventBytes(event, { major: 2 })),
    );
    const sum = events.reduce((total, event) => total + batchShareIn(2)(event), 0);
    expect(sum).toBe(CloudEventBatch.encode({ events: events.map(toCloudEvent) }).finish().length);
    expect(batchShareIn(1)).toBe(eventBatchShare);
  });

  it("counts a time's unknown fields, which the conversion carries", () => {
    const time = Timestamp.decode(
      Buffer.concat([Timestamp.encode({ seconds: 5n, nanos: 1 }).finish(), Buffer.from([0x18, 7])]),
    );
    const event = { ...createEvent({ id: "unknown", source: "/s", type: "t" }), time };
    expect(cloudEventBatchShare(event)).toBe(encodedEventBytes(event, { major: 2 }));
    expect(cloudEventBatchShare(event)).toBe(
      encodedEventBytes({ ...event, time: { seconds: 5n, nanos: 1 } }, { major: 2 }) + 2,
    );
  });
});
