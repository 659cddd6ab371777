import { dirname } from "node:path";
import {
  convertEventBatch,
  decodeEvents,
  EventConversionError,
  fromCloudEvent,
  toCloudEvent,
} from "./event-conversion";
import { createEvent, type FlowEvent } from "./flow-event";
import { AttributeValue, EventBatch } from "./gen/event/v1/event";
import { CloudEvent, CloudEventAttributeValue, CloudEventBatch } from "./gen/event/v2/event";
import { Gen, random, v1Event, v1Wire, v2Event, v2Wire } from "./test-support/event-generators";

const EVENTS = 2000;

/** The attributes' values of an event v2 as its encoding carries them. */
function attrsOf(event: CloudEvent): Record<string, CloudEventAttributeValue["attr"]> {
  return Object.fromEntries(
    Object.entries(v2Wire(event).attributes).map(([name, value]) => [name, value.attr]),
  );
}

describe("round trips", () => {
  it("every event v1 survives v1 -> v2 -> v1 unchanged", () => {
    const gen = new Gen(random(14));
    for (let i = 0; i < EVENTS; i += 1) {
      const event = v1Wire(v1Event(gen));
      const there = v2Wire(toCloudEvent(event));
      expect(v1Wire(fromCloudEvent(there))).toEqual(event);
    }
  });

  it("every event v2 written by the format's rules survives v2 -> v1 -> v2 unchanged", () => {
    const gen = new Gen(random(2));
    for (let i = 0; i < EVENTS; i += 1) {
      const event = v2Wire(v2Event(gen));
      const there = v1Wire(fromCloudEvent(event));
      expect(v2Wire(toCloudEvent(there))).toEqual(event);
    }
  });

  it("batches survive both ways on bytes", () => {
    const gen = new Gen(random(7));
    const v1 = Array.from({ length: 50 }, () => v1Wire(v1Event(gen)));
    const v1Bytes = EventBatch.encode({ events: v1 }).finish();
    const toV2 = convertEventBatch(v1Bytes, 1, 2);
    expect(toV2).toMatchObject({ count: 50, refused: [] });
    const back = convertEventBatch(toV2.bytes, 2, 1);
    expect(back).toMatchObject({ count: 50, refused: [] });
    expect(EventBatch.decode(back.bytes).events).toEqual(v1);

    const v2 = Array.from({ length: 50 }, () => v2Wire(v2Event(gen)));
    const v2Bytes = CloudEventBatch.encode({ events: v2 }).finish();
    const v2Back = convertEventBatch(convertEventBatch(v2Bytes, 2, 1).bytes, 1, 2);
    expect(CloudEventBatch.decode(v2Back.bytes).events).toEqual(v2);
  });
});

describe("v1 -> v2", () => {
  const base = { id: "1", source: "/s", type: "t" };

  it("moves subject, time, datacontenttype and dataschema into attributes, absent when empty", () => {
    const time = { seconds: 2n ** 40n, nanos: 5 };
    const converted = toCloudEvent(
      createEvent({ ...base, subject: "s", time, datacontenttype: "text/plain", dataschema: "https://x/s" }),
    );
    expect(converted).toMatchObject({ id: "1", source: "/s", specVersion: "1.0", type: "t" });
    expect(attrsOf(converted)).toEqual({
      subject: { $case: "ceString", value: "s" },
      time: { $case: "ceTimestamp", value: { ...time, _unknownFields: {} } },
      datacontenttype: { $case: "ceString", value: "text/plain" },
      dataschema: { $case: "ceUri", value: "https://x/s" },
    });
    expect(toCloudEvent(createEvent(base)).attributes).toEqual({});
    expect(toCloudEvent(createEvent(base)).data).toBeUndefined();
  });

  it("writes each extension as the attribute of its type", () => {
    const time = { seconds: -5n, nanos: 7 };
    const extensions: FlowEvent["extensions"] = {
      b: { value: { $case: "booleanValue", value: true } },
      i: { value: { $case: "integerValue", value: -2147483648 } },
      s: { value: { $case: "stringValue", value: "中" } },
      y: { value: { $case: "binaryValue", value: Buffer.from([0, 255]) } },
      u: { value: { $case: "uriValue", value: "https://x" } },
      r: { value: { $case: "uriRefValue", value: "/x" } },
      t: { value: { $case: "timestampValue", value: time } },
    };
    expect(attrsOf(toCloudEvent(createEvent({ ...base, extensions })))).toEqual({
      b: { $case: "ceBoolean", value: true },
      i: { $case: "ceInteger", value: -2147483648 },
      s: { $case: "ceString", value: "中" },
      y: { $case: "ceBytes", value: Buffer.from([0, 255]) },
      u: { $case: "ceUri", value: "https://x" },
      r: { $case: "ceUriRef", value: "/x" },
      t: { $case: "ceTimestamp", value: { ...time, _unknownFields: {} } },
    });
  });

  it("leaves out an extension named like a context attribute, which CloudEvents forbids", () => {
    const value = AttributeValue.fromPartial({ value: { $case: "stringValue", value: "x" } });
    const converted = toCloudEvent(
      createEvent({
        ...base,
        subject: "real",
        extensions: { subject: value, id: value, data: value, ok: value },
      }),
    );
    expect(Object.keys(converted.attributes).sort()).toEqual(["ok", "subject"]);
    expect(converted.attributes.subject?.attr).toEqual({ $case: "ceString", value: "real" });
  });

  it("carries data per the format: valid UTF-8 of a text media type as text, protobuf as Any, the rest as bytes", () => {
    const data = (datacontenttype: string, bytes: Buffer, dataschema = "") =>
      toCloudEvent(createEvent({ ...base, datacontenttype, data: bytes, dataschema })).data;
    const json = Buffer.from('{"n":123456789012345678901234567890}');
    expect(data("application/json", json)).toEqual({ $case: "textData", value: json.toString() });
    expect(data("Application/JSON; charset=utf-8", json)).toEqual({
      $case: "textData",
      value: json.toString(),
    });
    expect(data("application/vnd.x+json", json)?.$case).toBe("textData");
    expect(data("text/csv", json)?.$case).toBe("textData");
    expect(data("application/xml", json)?.$case).toBe("textData");
    expect(data("image/svg+xml", json)?.$case).toBe("textData");
    expect(data("application/octet-stream", json)).toEqual({ $case: "binaryData", value: json });
    expect(data("", json)?.$case).toBe("binaryData");
    expect(data("text/plain", Buffer.from([0xc3, 0x28]))).toEqual({
      $case: "binaryData",
      value: Buffer.from([0xc3, 0x28]),
    });
    const withBom = Buffer.from("\ufeffhello");
    expect(Buffer.from((data("text/plain", withBom) as { value: string }).value, "utf8")).toEqual(withBom);
    expect(data("application/protobuf", Buffer.from([8, 1]), "type.googleapis.com/x.Y")).toMatchObject({
      $case: "protoData",
      value: { typeUrl: "type.googleapis.com/x.Y", value: Buffer.from([8, 1]) },
    });
    expect(data("application/protobuf", Buffer.from([8, 1]))?.$case).toBe("binaryData");
    expect(data("application/json", Buffer.alloc(0))).toBeUndefined();
  });
});

describe("v2 -> v1", () => {
  const event = (attributes: Record<string, CloudEventAttributeValue["attr"]>, data?: CloudEvent["data"]) =>
    CloudEvent.fromPartial({
      id: "1",
      source: "/s",
      specVersion: "1.0",
      type: "t",
      attributes: Object.fromEntries(Object.entries(attributes).map(([name, attr]) => [name, { attr }])),
      data,
    });

  it("fills v1's fields from the attributes that have one, in each type the format allows", () => {
    const time = { seconds: 1_700_000_000n, nanos: 1 };
    expect(
      fromCloudEvent(
        event({
          subject: { $case: "ceString", value: "s" },
          time: { $case: "ceTimestamp", value: time },
          datacontenttype: { $case: "ceString", value: "text/plain" },
          dataschema: { $case: "ceUri", value: "https://x" },
        }),
      ),
    ).toMatchObject({
      id: "1",
      source: "/s",
      specversion: "1.0",
      type: "t",
      subject: "s",
      time,
      datacontenttype: "text/plain",
      dataschema: "https://x",
      extensions: {},
    });
    expect(
      fromCloudEvent(event({ time: { $case: "ceString", value: "2023-11-15T00:13:20.5+02:00" } })).time,
    ).toEqual({
      seconds: 1_700_000_000n,
      nanos: 500_000_000,
    });
    expect(fromCloudEvent(event({ dataschema: { $case: "ceUriRef", value: "/s" } })).dataschema).toBe("/s");
    expect(fromCloudEvent(event({ dataschema: { $case: "ceString", value: "s" } })).dataschema).toBe("s");
  });

  it("makes every other attribute the extension of its type", () => {
    expect(
      fromCloudEvent(
        event({
          n: { $case: "ceInteger", value: -3 },
          y: { $case: "ceBytes", value: Buffer.from([1]) },
          e: undefined,
        }),
      ).extensions,
    ).toEqual({
      n: { value: { $case: "integerValue", value: -3 }, _unknownFields: {} },
      y: { value: { $case: "binaryValue", value: Buffer.from([1]) }, _unknownFields: {} },
      e: { value: undefined, _unknownFields: {} },
    });
  });

  it("takes binary data as it is, text as its UTF-8 bytes, proto data with its type URL", () => {
    expect(fromCloudEvent(event({}, { $case: "binaryData", value: Buffer.from([0, 1]) })).data).toEqual(
      Buffer.from([0, 1]),
    );
    expect(fromCloudEvent(event({}, { $case: "textData", value: "中😀" })).data).toEqual(
      Buffer.from("中😀", "utf8"),
    );
    expect(fromCloudEvent(event({}))).toMatchObject({ data: Buffer.alloc(0), datacontenttype: "" });
    const proto = {
      $case: "protoData" as const,
      value: { typeUrl: "type.googleapis.com/x.Y", value: Buffer.from([8, 1]) },
    };
    expect(fromCloudEvent(event({}, proto))).toMatchObject({
      data: Buffer.from([8, 1]),
      dataschema: "type.googleapis.com/x.Y",
      datacontenttype: "application/protobuf",
    });
    const same = event(
      {
        dataschema: { $case: "ceUri", value: "type.googleapis.com/x.Y" },
        datacontenttype: { $case: "ceString", value: "application/x-protobuf" },
      },
      proto,
    );
    expect(fromCloudEvent(same)).toMatchObject({
      dataschema: "type.googleapis.com/x.Y",
      datacontenttype: "application/x-protobuf",
    });
  });

  it.each([
    [
      'attribute "subject" must be a ce_string, found a ce_integer',
      { subject: { $case: "ceInteger", value: 1 } },
    ],
    [
      'attribute "datacontenttype" must be a ce_string, found a ce_bytes',
      { datacontenttype: { $case: "ceBytes", value: Buffer.from("x") } },
    ],
    [
      'attribute "dataschema" must be a ce_uri (or ce_uri_ref, ce_string), found a ce_boolean',
      { dataschema: { $case: "ceBoolean", value: true } },
    ],
    [
      'attribute "time" must be a ce_timestamp (or an RFC 3339 ce_string), found a ce_uri',
      { time: { $case: "ceUri", value: "x" } },
    ],
    [
      'attribute "time" must be a ce_timestamp (or an RFC 3339 ce_string), found no value',
      { time: undefined },
    ],
    [
      'attribute "time": "yesterday" is not an RFC 3339 time',
      { time: { $case: "ceString", value: "yesterday" } },
    ],
    [
      'attribute "id" has the name of a CloudEvents field the event has already; rename it',
      { id: { $case: "ceString", value: "2" } },
    ],
    [/"source" has the name of a CloudEvents field/, { source: { $case: "ceString", value: "x" } }],
    [/"specversion" has the name/, { specversion: { $case: "ceString", value: "x" } }],
    [/"type" has the name/, { type: { $case: "ceString", value: "x" } }],
    [/"data" has the name/, { data: { $case: "ceString", value: "x" } }],
  ] as [string | RegExp, Record<string, CloudEventAttributeValue["attr"]>][])(
    "refuses %s",
    (reason, attributes) => {
      const refused = event(attributes);
      expect(() => fromCloudEvent(refused)).toThrow(EventConversionError);
      expect(() => fromCloudEvent(refused)).toThrow(reason);
    },
  );

  it("refuses proto data whose type URL differs from dataschema: v1 has room for one", () => {
    const refused = event(
      { dataschema: { $case: "ceUri", value: "https://x/s" } },
      { $case: "protoData", value: { typeUrl: "type.googleapis.com/x.Y", value: Buffer.from([1]) } },
    );
    expect(() => fromCloudEvent(refused)).toThrow(
      "proto_data is a type.googleapis.com/x.Y but dataschema says https://x/s: event v1 has room for one of them",
    );
  });
});

describe("convertEventBatch", () => {
  const v2 = (id: string, attributes: CloudEvent["attributes"] = {}) =>
    CloudEvent.fromPartial({
      id,
      source: "/s",
      specVersion: "1.0",
      type: "t",
      attributes,
      data: { $case: "textData", value: id },
    });

  it("gives the same major's bytes as they are, with their count", () => {
    const bytes = EventBatch.encode({ events: [createEvent({ id: "1", source: "/s", type: "t" })] }).finish();
    const same = convertEventBatch(bytes, 1, 1);
    expect(same.bytes).toBe(bytes);
    expect(same).toMatchObject({ count: 1, refused: [] });
    expect(convertEventBatch(new Uint8Array(0), 2, 2)).toMatchObject({ count: 0, refused: [] });
  });

  it("leaves out the events v1 cannot carry and lists each with its index, reason and what fits", () => {
    const wrong = {
      subject: CloudEventAttributeValue.fromPartial({ attr: { $case: "ceInteger", value: 4 } }),
      keep: CloudEventAttributeValue.fromPartial({ attr: { $case: "ceBoolean", value: true } }),
    };
    const bytes = CloudEventBatch.encode({ events: [v2("a"), v2("b", wrong), v2("c")] }).finish();
    const converted = convertEventBatch(bytes, 2, 1);
    expect(converted.count).toBe(2);
    expect(EventBatch.decode(converted.bytes).events.map((event) => event.id)).toEqual(["a", "c"]);
    expect(converted.refused).toHaveLength(1);
    expect(converted.refused[0]).toMatchObject({
      index: 1,
      reason: 'attribute "subject" must be a ce_string, found a ce_integer',
      event: {
        id: "b",
        subject: "",
        data: Buffer.from("b"),
        extensions: { keep: { value: { $case: "booleanValue", value: true } } },
      },
    });
  });

  it("says which encoding the bytes are not", () => {
    expect(() => convertEventBatch(Buffer.from([0x0a, 0x05, 1]), 1, 2)).toThrow(
      /not an encoded event v1 EventBatch/,
    );
    expect(() => convertEventBatch(Buffer.from([0x0a, 0x05, 1]), 2, 2)).toThrow(
      /not an encoded event v2 CloudEventBatch/,
    );
  });
});

describe("decodeEvents", () => {
  it("decodes either major as FlowEvents, refused v2 events as much as fits", () => {
    const v1 = [createEvent({ id: "1", source: "/s", type: "t", data: { a: 1 } })];
    expect(decodeEvents(EventBatch.encode({ events: v1 }).finish(), 1)).toEqual([v1Wire(v1[0] as FlowEvent)]);
    const v2 = CloudEventBatch.encode({
      events: [
        toCloudEvent(v1[0] as FlowEvent),
        CloudEvent.fromPartial({ id: "2", attributes: { id: { attr: { $case: "ceString", value: "x" } } } }),
      ],
    }).finish();
    expect(decodeEvents(v2, 2).map((event) => event.id)).toEqual(["1", "2"]);
    expect(decodeEvents(v2, 2)[0]).toEqual(v1Wire(v1[0] as FlowEvent));
  });

  it("never throws: a malformed batch gives the events before the malformed part", () => {
    const good = EventBatch.encode({ events: [createEvent({ id: "1", source: "/s", type: "t" })] }).finish();
    const cut = Buffer.concat([good, Buffer.from([0x0a, 0x7f, 1, 2])]);
    expect(decodeEvents(cut, 1).map((event) => event.id)).toEqual(["1"]);
    expect(decodeEvents(cut, 2).map((event) => event.id)).toEqual(["1"]);
    expect(decodeEvents(Buffer.from([0x0a, 0x02, 0x0a, 0x7f]), 1)).toEqual([]);
    expect(decodeEvents(Buffer.from([0xff, 0xff, 0xff]), 2)).toEqual([]);
  });
});

// --- The CloudEvents Protobuf Format itself, built independently --------------------------------

/** What the test uses of protobufjs (a dependency of @grpc/proto-loader, not of the SDK). */
interface ProtobufType {
  decode(bytes: Uint8Array): object;
  encode(message: object): { finish(): Uint8Array };
  fromObject(object: object): object;
  toObject(message: object, options: object): Record<string, unknown>;
}
interface ProtobufJs {
  Root: { fromJSON(json: object): { lookupType(name: string): ProtobufType } };
}

const protobufjs = require(
  require.resolve("protobufjs", { paths: [dirname(require.resolve("@grpc/proto-loader"))] }),
) as ProtobufJs;

/**
 * io.cloudevents.v1, written from the field table of the CloudEvents Protobuf Format
 * (cloudevents/formats/protobuf-format.md), with google.protobuf.Any and Timestamp as protobuf
 * defines them.
 */
const cloudEventsRoot = protobufjs.Root.fromJSON({
  nested: {
    io: {
      nested: {
        cloudevents: {
          nested: {
            v1: {
              nested: {
                CloudEvent: {
                  oneofs: { data: { oneof: ["binary_data", "text_data", "proto_data"] } },
                  fields: {
                    id: { type: "string", id: 1 },
                    source: { type: "string", id: 2 },
                    spec_version: { type: "string", id: 3 },
                    type: { type: "string", id: 4 },
                    attributes: { keyType: "string", type: "CloudEventAttributeValue", id: 5 },
                    binary_data: { type: "bytes", id: 6 },
                    text_data: { type: "string", id: 7 },
                    proto_data: { type: "google.protobuf.Any", id: 8 },
                  },
                },
                CloudEventAttributeValue: {
                  oneofs: {
                    attr: {
                      oneof: [
                        "ce_boolean",
                        "ce_integer",
                        "ce_string",
                        "ce_bytes",
                        "ce_uri",
                        "ce_uri_ref",
                        "ce_timestamp",
                      ],
                    },
                  },
                  fields: {
                    ce_boolean: { type: "bool", id: 1 },
                    ce_integer: { type: "int32", id: 2 },
                    ce_string: { type: "string", id: 3 },
                    ce_bytes: { type: "bytes", id: 4 },
                    ce_uri: { type: "string", id: 5 },
                    ce_uri_ref: { type: "string", id: 6 },
                    ce_timestamp: { type: "google.protobuf.Timestamp", id: 7 },
                  },
                },
                CloudEventBatch: { fields: { events: { rule: "repeated", type: "CloudEvent", id: 1 } } },
              },
            },
          },
        },
      },
    },
    google: {
      nested: {
        protobuf: {
          nested: {
            Any: { fields: { type_url: { type: "string", id: 1 }, value: { type: "bytes", id: 2 } } },
            Timestamp: { fields: { seconds: { type: "int64", id: 1 }, nanos: { type: "int32", id: 2 } } },
          },
        },
      },
    },
  },
});
const CloudEventsBatch = cloudEventsRoot.lookupType("io.cloudevents.v1.CloudEventBatch");
const TO_OBJECT = { longs: String, bytes: Buffer, oneofs: true, defaults: false };

/** Flow's v2 event in the shape protobufjs gives io.cloudevents.v1.CloudEvent (oneofs named). */
function asCloudEventsObject(event: CloudEvent): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  if (event.id) object.id = event.id;
  if (event.source) object.source = event.source;
  if (event.specVersion) object.spec_version = event.specVersion;
  if (event.type) object.type = event.type;
  const attributes = Object.entries(event.attributes);
  if (attributes.length > 0)
    object.attributes = Object.fromEntries(
      attributes.map(([name, value]) => [name, asAttributeObject(value)]),
    );
  const data = event.data;
  if (data?.$case === "binaryData") Object.assign(object, { binary_data: data.value, data: "binary_data" });
  if (data?.$case === "textData") Object.assign(object, { text_data: data.value, data: "text_data" });
  if (data?.$case === "protoData") {
    const any: Record<string, unknown> = {};
    if (data.value.typeUrl) any.type_url = data.value.typeUrl;
    if (data.value.value.length) any.value = data.value.value;
    Object.assign(object, { proto_data: any, data: "proto_data" });
  }
  return object;
}

function asAttributeObject(value: CloudEventAttributeValue): Record<string, unknown> {
  const attr = value.attr;
  if (attr === undefined) return {};
  const field = {
    ceBoolean: "ce_boolean",
    ceInteger: "ce_integer",
    ceString: "ce_string",
    ceBytes: "ce_bytes",
    ceUri: "ce_uri",
    ceUriRef: "ce_uri_ref",
    ceTimestamp: "ce_timestamp",
  }[attr.$case];
  let written: unknown = attr.value;
  if (attr.$case === "ceTimestamp") {
    const time: Record<string, unknown> = {};
    if (attr.value.seconds !== 0n) time.seconds = attr.value.seconds.toString();
    if (attr.value.nanos !== 0) time.nanos = attr.value.nanos;
    written = time;
  }
  return { [field]: written, attr: field };
}

describe("wire compatibility with the CloudEvents Protobuf Format (io.cloudevents.v1)", () => {
  const gen = new Gen(random(1001));
  const events = [
    ...Array.from({ length: 300 }, () => v2Wire(v2Event(gen))),
    ...Array.from({ length: 300 }, () => v2Wire(toCloudEvent(v1Event(gen)))),
  ];

  it("Flow's v2 bytes decode as io.cloudevents.v1.CloudEventBatch field for field", () => {
    const bytes = CloudEventBatch.encode({ events }).finish();
    const decoded = CloudEventsBatch.toObject(CloudEventsBatch.decode(bytes), TO_OBJECT);
    expect(decoded.events).toEqual(events.map(asCloudEventsObject));
  });

  it("what io.cloudevents.v1 encodes decodes in Flow's v2 as the same events", () => {
    const message = CloudEventsBatch.fromObject({ events: events.map(asCloudEventsObject) });
    const bytes = CloudEventsBatch.encode(message).finish();
    expect(CloudEventBatch.decode(bytes).events).toEqual(events);
  });

  it("a v1 batch converted is a CloudEventBatch any CloudEvents protobuf reader reads", () => {
    const v1 = createEvent({
      id: "o-1",
      source: "/orders",
      type: "order.created",
      subject: "42",
      data: { n: 1 },
      extensions: { tenant: { value: { $case: "stringValue", value: "acme" } } },
    });
    const { bytes } = convertEventBatch(EventBatch.encode({ events: [v1] }).finish(), 1, 2);
    expect(CloudEventsBatch.toObject(CloudEventsBatch.decode(bytes), TO_OBJECT)).toEqual({
      events: [
        {
          id: "o-1",
          source: "/orders",
          spec_version: "1.0",
          type: "order.created",
          attributes: {
            subject: { ce_string: "42", attr: "ce_string" },
            datacontenttype: { ce_string: "application/json", attr: "ce_string" },
            tenant: { ce_string: "acme", attr: "ce_string" },
          },
          text_data: '{"n":1}',
          data: "text_data",
        },
      ],
    });
  });
});

describe("fields of a newer event v2 minor", () => {
  // A CloudEvent with field 20 (a string this SDK's CloudEvent does not know), as a producer on a
  // later minor of event v2 writes it.
  const known = CloudEvent.encode(
    CloudEvent.fromPartial({ id: "n-1", source: "urn:s", specVersion: "1.0", type: "t" }),
  ).finish();
  const newer = Buffer.concat([known, Buffer.from([0xa2, 0x01, 0x03, 0x6e, 0x65, 0x77])]);
  const batchOf = (event: Uint8Array) =>
    CloudEventBatch.encode({ events: [CloudEvent.decode(event)] }).finish();

  it("come back on v2 from a FlowEvent passed on as it is, or spread", () => {
    const event = fromCloudEvent(CloudEvent.decode(newer));
    expect(Buffer.from(CloudEvent.encode(toCloudEvent(event)).finish())).toEqual(newer);
    const changed = { ...event, subject: "changed" };
    expect(CloudEvent.decode(CloudEvent.encode(toCloudEvent(changed)).finish())._unknownFields).toEqual(
      CloudEvent.decode(newer)._unknownFields,
    );
  });

  it("come back through the wire conversions a v2 service does (decode, then encode)", () => {
    const [event] = decodeEvents(batchOf(newer), 2);
    const again = convertEventBatch(EventBatch.encode({ events: [event as FlowEvent] }).finish(), 1, 2);
    // Through event v1 bytes they cannot travel: v1's field numbers mean other things.
    expect(CloudEventBatch.decode(again.bytes).events[0]?._unknownFields).toEqual({});
    expect(
      Buffer.from(CloudEventBatch.encode({ events: [toCloudEvent(event as FlowEvent)] }).finish()),
    ).toEqual(Buffer.from(batchOf(newer)));
  });
});
