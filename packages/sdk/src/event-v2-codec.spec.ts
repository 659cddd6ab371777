import { isDeepStrictEqual } from "node:util";
import { BinaryReader, BinaryWriter } from "@bufbuild/protobuf/wire";
import {
  convertEventBatch,
  decodeEvents,
  fromCloudEvents,
  readCloudEvents,
  toCloudEvent,
  writeCloudEventBatch,
} from "./event-conversion";
import { ObjectPath, readCloudEventBatch, writeCloudEvent } from "./event-v2-codec";
import { createEvent, type FlowEvent } from "./flow-event";
import { type AttributeValue, EventBatch } from "./gen/event/v1/event";
import { CloudEvent, CloudEventAttributeValue, CloudEventBatch } from "./gen/event/v2/event";
import { Gen, RESERVED, random, v1Event, v1Wire, v2Event } from "./test-support/event-generators";

// The direct codec (event-v2-codec.ts) against the object-based reference it must equal:
// toCloudEvent + CloudEvent.encode one way, CloudEvent.decode + fromCloudEvent the other, over the
// seeded generators of event-conversion.spec.ts, events no writer should make, and bytes cut,
// flipped and padded at random.

const EVENTS = 3000;

/** The reference's bytes for events: CloudEventBatch.encode of their toCloudEvent. */
const referenceBytes = (events: readonly FlowEvent[]): Uint8Array =>
  CloudEventBatch.encode({ events: events.map(toCloudEvent) }).finish();

const codecBytes = (events: readonly FlowEvent[]): Uint8Array => writeCloudEventBatch(events).finish();

/** The codec's bytes are the reference's (compared as bytes: jest's deep equality is slow on them). */
function expectReferenceBytes(events: readonly FlowEvent[]): void {
  const codec = Buffer.from(codecBytes(events));
  const reference = Buffer.from(referenceBytes(events));
  if (!codec.equals(reference)) expect([...codec]).toEqual([...reference]);
}

/** What the reference reads from a CloudEventBatch's bytes, or the error it throws. */
function referenceRead(bytes: Uint8Array): unknown {
  try {
    const objects = CloudEventBatch.decode(bytes).events;
    const { events, refused } = fromCloudEvents(objects);
    return { events, refused, originals: refused.map(({ index }) => objects[index]) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** What the codec reads; undefined when it leaves the batch to the reference. */
function codecRead(bytes: Uint8Array): unknown {
  try {
    return readCloudEvents(bytes);
  } catch (error) {
    return { codecThrew: (error as Error).message };
  }
}

/** Equal as the reference gives it, down to undefined members, Buffer types and extension order. */
function expectSameRead(bytes: Uint8Array): "codec" | "reference" {
  const codec = codecRead(bytes);
  if (codec === undefined) return "reference";
  const reference = referenceRead(bytes);
  // node's deep equality, prototypes and undefined members included (jest's takes an own property
  // named "constructor" for a different class); jest's for the difference when there is one.
  if (!isDeepStrictEqual(codec, reference)) expect(codec).toStrictEqual(reference);
  const order = (read: unknown) =>
    (read as { events: FlowEvent[] }).events.map((event) => Object.keys(event.extensions));
  expect(order(codec)).toEqual(order(reference));
  return "codec";
}

/** Events v1 no careful writer makes, which the reference still writes in its way. */
function oddV1Event(gen: Gen): FlowEvent {
  const event = v1Event(gen);
  const value = (): AttributeValue => ({ value: gen.extension() });
  switch (gen.int(0, 9)) {
    case 0:
      event.extensions[gen.pick(["1", "01", "9z", "0", "4294967294", "4294967295"])] = value();
      break;
    case 1:
      // An own property named __proto__, as JSON.parse makes one.
      Object.defineProperty(event.extensions, "__proto__", { value: value(), enumerable: true });
      break;
    case 2:
      event.extensions[gen.pick([...RESERVED])] = value();
      break;
    case 3:
      event.extensions[""] = value();
      break;
    case 4:
      event.extensions[gen.name()] = { value: undefined };
      break;
    case 5:
      event.extensions[gen.name()] = {
        value: { $case: "unknownValue", value: 1 },
      } as unknown as AttributeValue;
      break;
    case 6:
      if (event.time) event.time._unknownFields = { 24: [Uint8Array.from([5])] };
      break;
    case 7:
      event.extensions[gen.name()] = {
        value: {
          $case: "timestampValue",
          value: { ...gen.timestamp(), _unknownFields: { 32: [Uint8Array.from([1])] } },
        },
      };
      break;
    case 8:
      event._unknownFields = { 96: [Uint8Array.from([1])] };
      break;
    default:
      event.subject = gen.text(30, 1);
  }
  return event;
}

/** Any attribute value, of any type or none. */
function anyAttr(gen: Gen): CloudEventAttributeValue["attr"] {
  return gen.pick<() => CloudEventAttributeValue["attr"]>([
    () => undefined,
    () => ({ $case: "ceBoolean", value: gen.chance(0.5) }),
    () => ({ $case: "ceInteger", value: gen.integer() }),
    () => ({ $case: "ceString", value: gen.text() }),
    () => ({
      $case: "ceString",
      value: gen.pick([
        "2023-11-15T00:13:20.5+02:00",
        "1970-01-01t00:00:00z",
        "2024-02-30T00:00:00Z",
        "yesterday",
      ]),
    }),
    () => ({ $case: "ceBytes", value: gen.bytes() }),
    () => ({ $case: "ceUri", value: gen.pick(["https://x/s", "type.googleapis.com/x.Y"]) }),
    () => ({ $case: "ceUriRef", value: gen.pick(["/s", "type.googleapis.com/x.Y"]) }),
    () => ({ $case: "ceTimestamp", value: gen.timestamp() }),
  ])();
}

/** Events v2 of every shape the format's types allow, refused ones among them. */
function wildV2Event(gen: Gen): CloudEvent {
  const attributes: CloudEvent["attributes"] = {};
  for (let i = gen.int(0, 6); i > 0; i -= 1) {
    const name = gen.chance(0.5) ? gen.pick([...RESERVED]) : gen.name();
    attributes[name] = CloudEventAttributeValue.fromPartial({ attr: anyAttr(gen) });
  }
  const data = gen.pick<() => CloudEvent["data"]>([
    () => undefined,
    () => ({ $case: "binaryData", value: gen.bytes(20) }),
    () => ({ $case: "textData", value: gen.text(20) }),
    () => ({
      $case: "protoData",
      value: { typeUrl: gen.pick(["", "type.googleapis.com/x.Y", "https://x/s"]), value: gen.bytes(8) },
    }),
  ])();
  return CloudEvent.fromPartial({
    id: gen.text(8),
    source: gen.text(),
    specVersion: gen.pick(["1.0", ""]),
    type: gen.text(),
    attributes,
    data,
  });
}

describe("FlowEvent -> CloudEvent bytes", () => {
  it("writes the reference's bytes for every event v1, straight from the FlowEvent", () => {
    const gen = new Gen(random(20));
    let direct = 0;
    for (let i = 0; i < EVENTS; i += 1) {
      const event = gen.chance(0.5) ? v1Event(gen) : v1Wire(v1Event(gen));
      expectReferenceBytes([event]);
      if (writeCloudEvent(event, new BinaryWriter())) direct += 1;
    }
    // Only extensions with integer names (ordered first by an object) go through the reference.
    expect(direct).toBeGreaterThan(EVENTS * 0.9);
  });

  it("writes the reference's bytes for events no careful writer makes", () => {
    const gen = new Gen(random(21));
    for (let i = 0; i < EVENTS; i += 1) {
      const event = oddV1Event(gen);
      expectReferenceBytes([event]);
    }
  });

  it("writes an extensions object with a prototype of its own as the reference does", () => {
    const extensions = JSON.parse('{"a":{"value":{"$case":"stringValue","value":"x"}}}');
    Object.setPrototypeOf(extensions, { inherited: { value: { $case: "booleanValue", value: true } } });
    const event = createEvent({ id: "1", source: "/s", type: "t", extensions });
    expectReferenceBytes([event]);
  });

  it("writes batches of many events as CloudEventBatch.encode does", () => {
    const gen = new Gen(random(22));
    for (let i = 0; i < 50; i += 1) {
      const events = Array.from({ length: gen.int(0, 120) }, () =>
        gen.chance(0.9) ? v1Event(gen) : oddV1Event(gen),
      );
      expectReferenceBytes(events);
    }
  });

  it("throws where the reference throws, for what is no FlowEvent", () => {
    const tooLarge = createEvent({
      id: "1",
      source: "/s",
      type: "t",
      time: { seconds: 2n ** 63n, nanos: 0 },
    });
    expect(() => referenceBytes([tooLarge])).toThrow(/too large/);
    expect(() => codecBytes([tooLarge])).toThrow(/too large/);
    const notInt32 = createEvent({
      id: "1",
      source: "/s",
      type: "t",
      extensions: { n: { value: { $case: "integerValue", value: 2 ** 31 } } },
    });
    expect(() => codecBytes([notInt32])).toThrow(/invalid int32/);
    expect(() => referenceBytes([notInt32])).toThrow(/invalid int32/);
  });
});

describe("CloudEvent bytes -> FlowEvent", () => {
  it("reads every event v2 written by the format's rules as the reference does, all itself", () => {
    const gen = new Gen(random(30));
    for (let i = 0; i < EVENTS / 10; i += 1) {
      const events = Array.from({ length: 10 }, () =>
        gen.chance(0.5) ? v2Event(gen) : toCloudEvent(v1Event(gen)),
      );
      const bytes = CloudEventBatch.encode({ events }).finish();
      expect(expectSameRead(bytes)).toBe("codec");
      // Every event read by the codec itself, none left to the reference.
      expect(readCloudEventBatch(bytes)?.filter((event) => event instanceof ObjectPath)).toEqual([]);
    }
  });

  it("refuses what the reference refuses, with its reason and the event as it came", () => {
    const gen = new Gen(random(31));
    let refused = 0;
    for (let i = 0; i < EVENTS / 10; i += 1) {
      const events = Array.from({ length: 10 }, () => wildV2Event(gen));
      const bytes = CloudEventBatch.encode({ events }).finish();
      expect(expectSameRead(bytes)).toBe("codec");
      refused += (readCloudEvents(bytes)?.refused ?? []).length;
    }
    expect(refused).toBeGreaterThan(EVENTS / 4);
  });

  it("gives one event alone (decodeEvents) as the reference does", () => {
    const gen = new Gen(random(32));
    for (let i = 0; i < EVENTS / 3; i += 1) {
      const event = gen.chance(0.5) ? wildV2Event(gen) : v2Event(gen);
      const bytes = CloudEventBatch.encode({ events: [event, v2Event(gen)] }).finish();
      expect(decodeEvents(bytes, 2)).toStrictEqual(referenceDecodeEvents(bytes));
    }
  });

  it("reads what only the decoder's own rules settle as the reference reads it", () => {
    const frame = (...fields: number[][]) => Uint8Array.from(fields.flat());
    const text = (tag: number, value: string) => [tag, value.length, ...Buffer.from(value)];
    const entry = (key: number[], value: number[]) => [42, key.length + value.length, ...key, ...value];
    const strAttr = (value: string) => [18, value.length + 2, ...text(26, value)];
    const event = (...fields: number[][]) => {
      const body = frame(...fields);
      return [10, body.length, ...body];
    };
    const cases: Uint8Array[] = [
      frame(event(text(10, "a"), [72, 1])), // an unknown varint field of CloudEvent
      frame(event(text(10, "a"), [77, 1, 2, 3, 4])), // an unknown fixed32
      frame(event(text(10, "a"), [8, 1])), // id with the wrong wire type
      frame(event(entry(text(10, "k"), strAttr("v")), entry(text(10, "k"), [18, 2, 8, 1]))), // a key twice
      frame(event(entry(text(10, "subject"), strAttr("v")), entry(text(10, "subject"), strAttr("w")))),
      frame(
        event(
          entry(text(10, "time"), strAttr("2020-01-01T00:00:00Z")),
          entry(text(10, "time"), strAttr("x")),
        ),
      ),
      frame(event(entry(text(10, "k"), []))), // an entry of no value: the decoder drops it
      frame(event(entry([], strAttr("v")))), // an entry of no key: the key ""
      frame(event(entry(text(10, "k"), [...strAttr("v"), ...strAttr("w")]))), // the value twice
      frame(event(entry([...text(10, "k"), ...text(10, "j")], strAttr("v")))), // the key twice
      frame(event(entry(text(10, "k"), [18, 4, 8, 1, 16, 2]))), // the oneof twice
      frame(event(entry(text(10, "k"), [18, 3, 8, 1, 24]))), // an unknown varint field in a value, cut
      frame(event(entry(text(10, "k"), [18, 4, 8, 1, 24, 1]))), // an unknown field in a value
      frame(event(entry(text(10, "k"), [18, 6, 58, 4, 8, 1, 24, 1]))), // an unknown field in a timestamp
      frame(event(entry(text(10, "time"), [18, 6, 58, 4, 8, 1, 24, 1]))),
      frame(event(entry(text(10, "t"), [18, 4, 58, 2, 0, 0]))), // tag 0 in a timestamp
      frame(event(entry(text(10, "k"), [18, 2, 0, 0]))), // tag 0 in a value
      frame(event(text(10, "a"), [0, 0], text(18, "s"))), // tag 0 in an event
      frame(event(text(10, "a"), [67, 68])), // a group in an event
      frame(event(text(10, "a"), [76])), // an end group
      frame(event(text(10, "a"), [78, 1])), // wire type 6
      frame(event(text(10, "a")), [18, 1, 0]), // a field of the batch other than its events
      frame(event(text(10, "a")), [0]), // tag 0 in the batch
      frame(event([66, 4, 10, 1, 65, 24]), event(text(10, "b"))), // an unknown field in Any
      frame(event([66, 6, 10, 1, 65, 18, 1, 9, 10, 1, 66])), // type_url twice
      frame(event([50, 1, 1], [58, 1, 65], [66, 2, 18, 0])), // the data oneof three times
      frame(event([58, 3, 0xef, 0xbb, 0xbf])), // text_data: a BOM
      frame(event([58, 3, 0xc3, 0x28, 0xff])), // text_data: not UTF-8
      frame(event([10, 2, 0xc3, 0x28])), // an id that is not UTF-8
      frame(event(entry(text(10, "__proto__"), strAttr("v")))),
      frame(event(entry(text(10, "constructor"), strAttr("v")))),
      frame(event(entry(text(10, "2"), strAttr("v")), entry(text(10, "1"), strAttr("w")))),
      frame(event(entry(text(10, "k"), [18, 9, 26, 9]))), // a length past its message's end
      frame([10, 4, 10, 9, 65, 65]), // an id past its event's end
      frame([10, 9, 10, 1, 65]), // an event past the batch's end
      frame([10]), // cut short
      frame(),
    ];
    for (const bytes of cases) expectSameRead(bytes);
  });

  it("reads bytes cut, flipped and padded at random as the reference does, or leaves them to it", () => {
    const gen = new Gen(random(33));
    const seen = { codec: 0, reference: 0 };
    for (let i = 0; i < EVENTS; i += 1) {
      const events = Array.from({ length: gen.int(1, 3) }, () =>
        gen.chance(0.5) ? wildV2Event(gen) : v2Event(gen),
      );
      const bytes = Buffer.from(CloudEventBatch.encode({ events }).finish());
      for (let changes = gen.int(1, 3); changes > 0; changes -= 1) {
        const at = gen.int(0, bytes.length - 1);
        switch (gen.int(0, 2)) {
          case 0:
            bytes[at] = gen.int(0, 255);
            break;
          case 1:
            bytes[at] = (bytes[at] ?? 0) ^ (1 << gen.int(0, 7));
            break;
          default:
            bytes[at] = gen.pick([0, 1, 2, 3, 4, 5, 6, 7, 0x80, 0x7f]);
        }
      }
      const cut = gen.chance(0.2) ? bytes.subarray(0, gen.int(0, bytes.length)) : bytes;
      seen[expectSameRead(cut)] += 1;
      // decodeEvents reads each event alone; the codec's reading must agree there too.
      expect(decodeEvents(cut, 2)).toStrictEqual(referenceDecodeEvents(cut));
    }
    expect(seen.codec).toBeGreaterThan(EVENTS / 10);
  });
});

/** decodeEvents of major 2 as it was before the codec: each frame decoded, then converted. */
function referenceDecodeEvents(bytes: Uint8Array): FlowEvent[] {
  const frames: Uint8Array[] = [];
  const reader = new BinaryReader(bytes);
  try {
    while (reader.pos < reader.len) {
      const [field, wireType] = reader.tag();
      if (field === 1 && wireType === 2) frames.push(reader.bytes());
      else reader.skip(wireType, field);
    }
  } catch {
    // The frames read so far.
  }
  const events: FlowEvent[] = [];
  for (const frame of frames) {
    try {
      // fromCloudEvents gives a refused event as much of it as v1 carries, as decodeEvents shows it.
      const { events: converted, refused } = fromCloudEvents([CloudEvent.decode(frame)]);
      events.push((converted[0] ?? refused[0]?.event) as FlowEvent);
    } catch {
      // Not an event.
    }
  }
  return events;
}

describe("convertEventBatch with the codec", () => {
  it("gives the reference's bytes both ways", () => {
    const gen = new Gen(random(40));
    for (let i = 0; i < 60; i += 1) {
      const v1 = Array.from({ length: gen.int(0, 50) }, () =>
        gen.chance(0.8) ? v1Event(gen) : oddV1Event(gen),
      );
      const v1Bytes = EventBatch.encode({ events: v1 }).finish();
      const decoded = EventBatch.decode(v1Bytes).events;
      expect(convertEventBatch(v1Bytes, 1, 2)).toEqual({
        bytes: referenceBytes(decoded),
        count: v1.length,
        refused: [],
      });

      const v2 = Array.from({ length: gen.int(0, 50) }, () =>
        gen.chance(0.5) ? wildV2Event(gen) : v2Event(gen),
      );
      const v2Bytes = CloudEventBatch.encode({ events: v2 }).finish();
      const { events, refused } = fromCloudEvents(CloudEventBatch.decode(v2Bytes).events);
      expect(convertEventBatch(v2Bytes, 2, 1)).toStrictEqual({
        bytes: EventBatch.encode({ events }).finish(),
        count: events.length,
        refused,
      });
    }
  });
});
