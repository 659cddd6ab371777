import { toCloudEvent } from "../event-conversion";
import type { FlowEvent, Timestamp } from "../flow-event";
import { type AttributeValue, Event } from "../gen/event/v1/event";
import { CloudEvent, CloudEventAttributeValue } from "../gen/event/v2/event";

// --- A seeded generator of events (the workspace has no property-testing library) -------------

/** mulberry32: small, fast and the same sequence for the same seed on every machine. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Gen {
  constructor(readonly next: () => number) {}
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)] as T;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  /** Text from ASCII, Latin, CJK and astral code points, NUL included: what UTF-8 has to carry. */
  text(maxLength = 12, minLength = 0): string {
    const pieces = ["a", "Z", "0", " ", "/", "\u0000", "é", "ß", "中", "文", "😀", "🚀", '"', "\n"];
    let text = "";
    for (let i = this.int(minLength, maxLength); i > 0; i -= 1) text += this.pick(pieces);
    return text;
  }
  bytes(maxLength = 16, minLength = 0): Buffer {
    return Buffer.from(Array.from({ length: this.int(minLength, maxLength) }, () => this.int(0, 255)));
  }
  name(): string {
    const letters = "abcdefghijklmnopqrstuvwxyz0123456789";
    let name = "";
    for (let i = this.int(1, 10); i > 0; i -= 1) name += this.pick([...letters]);
    return RESERVED.has(name) ? `x${name}` : name;
  }
  timestamp(): Timestamp {
    const seconds = this.pick([
      0n,
      1n,
      -1n,
      1_700_000_000n,
      253_402_300_799n,
      -62_135_596_800n,
      2n ** 62n,
      2n ** 63n - 1n,
      -(2n ** 63n),
      BigInt(this.int(-2_000_000_000, 2_000_000_000)),
    ]);
    return { seconds, nanos: this.pick([0, 1, 999_999_999, this.int(0, 999_999_999)]) };
  }
  integer(): number {
    return this.pick([0, -1, 1, -2147483648, 2147483647, this.int(-2147483648, 2147483647)]);
  }
  extension(): AttributeValue["value"] {
    switch (this.int(0, 7)) {
      case 0:
        return { $case: "booleanValue", value: this.chance(0.5) };
      case 1:
        return { $case: "integerValue", value: this.integer() };
      case 2:
        return { $case: "stringValue", value: this.text() };
      case 3:
        return { $case: "binaryValue", value: this.bytes() };
      case 4:
        return { $case: "uriValue", value: `https://example.com/${this.name()}` };
      case 5:
        return { $case: "uriRefValue", value: `/${this.name()}` };
      case 6:
        return { $case: "timestampValue", value: this.timestamp() };
      default:
        return undefined;
    }
  }
  payload(): { contentType: string; data: Buffer } {
    const bigJson = `{"n":${"9".repeat(this.int(16, 40))},"text":${JSON.stringify(this.text())}}`;
    return this.pick([
      () => ({ contentType: "", data: Buffer.alloc(0) }),
      () => ({ contentType: "application/json", data: Buffer.alloc(0) }),
      () => ({ contentType: "application/json", data: Buffer.from(bigJson) }),
      () => ({ contentType: "application/cloudevents+json; charset=utf-8", data: Buffer.from(bigJson) }),
      () => ({ contentType: "text/plain", data: Buffer.from(this.text(20, 1)) }),
      () => ({ contentType: "text/plain", data: Buffer.from(`\ufeff${this.text()}`) }),
      () => ({ contentType: "TEXT/CSV", data: Buffer.from("a,b\n1,2\n") }),
      () => ({ contentType: "application/xml", data: Buffer.from("<a>1</a>") }),
      () => ({ contentType: "application/atom+xml", data: Buffer.from("<feed/>") }),
      () => ({ contentType: "text/plain", data: Buffer.from([0xff, 0xfe, 0x00, 0xc0, 0x80]) }),
      () => ({ contentType: "application/json", data: Buffer.from([0xed, 0xa0, 0x80]) }),
      () => ({ contentType: "application/protobuf", data: this.bytes(16, 1) }),
      () => ({ contentType: "application/octet-stream", data: this.bytes(16, 1) }),
      () => ({ contentType: "", data: this.bytes(16, 1) }),
      () => ({ contentType: "", data: Buffer.from("plain words") }),
      () => ({ contentType: "image/png", data: this.bytes(16, 1) }),
    ])();
  }
}

export const RESERVED = new Set([
  "id",
  "source",
  "specversion",
  "type",
  "data",
  "subject",
  "time",
  "datacontenttype",
  "dataschema",
]);

/** Any event v1 a service can write (extension names as CloudEvents allows them). */
export function v1Event(gen: Gen): FlowEvent {
  const { contentType, data } = gen.payload();
  const extensions: FlowEvent["extensions"] = {};
  for (let i = gen.int(0, 4); i > 0; i -= 1) extensions[gen.name()] = { value: gen.extension() };
  return Event.fromPartial({
    id: gen.text(8, 1),
    source: gen.pick(["/orders", "https://example.com/a", gen.text()]),
    specversion: gen.pick(["1.0", "", gen.text(3)]),
    type: gen.text(),
    subject: gen.pick(["", gen.text()]),
    time: gen.chance(0.6) ? gen.timestamp() : undefined,
    datacontenttype: contentType,
    dataschema: gen.pick([
      "",
      "",
      "https://example.com/schemas/order",
      "type.googleapis.com/com.example.Order",
    ]),
    extensions,
    data,
  });
}

/**
 * Any event v2 written by the CloudEvents Protobuf Format's rules: text data as text_data with a
 * text media type, a protobuf message as proto_data with datacontenttype application/protobuf
 * and dataschema its type URL, other data as binary_data; time a ce_timestamp, dataschema a
 * ce_uri, subject and datacontenttype non-empty ce_strings; data, when there, not empty.
 */
export function v2Event(gen: Gen): CloudEvent {
  const attributes: CloudEvent["attributes"] = {};
  const set = (name: string, attr: CloudEventAttributeValue["attr"]): void => {
    attributes[name] = CloudEventAttributeValue.fromPartial({ attr });
  };
  for (let i = gen.int(0, 4); i > 0; i -= 1) {
    const value = gen.extension();
    set(gen.name(), value === undefined ? undefined : v2Attr(value));
  }
  if (gen.chance(0.5)) set("subject", { $case: "ceString", value: gen.text(8, 1) });
  if (gen.chance(0.6)) set("time", { $case: "ceTimestamp", value: gen.timestamp() });
  let data: CloudEvent["data"];
  switch (gen.int(0, 4)) {
    case 0:
      set("datacontenttype", {
        $case: "ceString",
        value: gen.pick(["application/json", "text/plain; charset=utf-8"]),
      });
      data = { $case: "textData", value: gen.pick([`{"n":${"1".repeat(30)}}`, gen.text(20, 1)]) };
      break;
    case 1: {
      const schema = `type.googleapis.com/com.example.${gen.name()}`;
      set("datacontenttype", { $case: "ceString", value: "application/protobuf" });
      set("dataschema", { $case: "ceUri", value: schema });
      data = { $case: "protoData", value: { typeUrl: schema, value: gen.bytes(16, 1) } };
      break;
    }
    case 2:
      if (gen.chance(0.5)) set("datacontenttype", { $case: "ceString", value: "application/octet-stream" });
      data = { $case: "binaryData", value: gen.bytes(16, 1) };
      break;
    case 3:
      set("datacontenttype", { $case: "ceString", value: "text/plain" });
      data = { $case: "binaryData", value: Buffer.from([0xc3, 0x28, gen.int(0, 255)]) };
      break;
    default:
      if (gen.chance(0.5)) set("dataschema", { $case: "ceUri", value: "https://example.com/s" });
  }
  return CloudEvent.fromPartial({
    id: gen.text(8, 1),
    source: gen.pick(["/orders", gen.text()]),
    specVersion: "1.0",
    type: gen.text(),
    attributes,
    data,
  });
}

function v2Attr(value: NonNullable<AttributeValue["value"]>): CloudEventAttributeValue["attr"] {
  return toCloudEvent(Event.fromPartial({ extensions: { x: { value } } })).attributes.x?.attr;
}

/** An event as decoding its encoding gives it: what the wire carries, nothing else. */
export const v1Wire = (event: FlowEvent): FlowEvent => Event.decode(Event.encode(event).finish());
export const v2Wire = (event: CloudEvent): CloudEvent => CloudEvent.decode(CloudEvent.encode(event).finish());
