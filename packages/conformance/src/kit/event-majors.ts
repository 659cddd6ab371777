import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { createEvent } from "@flow/sdk";
import { Event, EventBatch } from "../gen/event/v1/event";
import {
  CloudEvent,
  type CloudEventAttributeValue,
  CloudEventBatch,
  Timestamp as CloudEventTimestamp,
} from "../gen/event/v2/event";
import type { EventSpec } from "./conform-config";

/**
 * The events the kit sends and reads, in the encoding of a family contract's major: major 1
 * carries event v1 (Flow's `Event`), major 2 event v2 (the CloudEvents Protobuf Format's
 * `CloudEvent`). The kit builds and reads each in its own terms, never by converting one into
 * the other, so a service's conversion is checked rather than repeated.
 */
export type KitEvent = Event | CloudEvent;

/** How a batch as large as a limit carries its bulk (see `EventMajor.padded`). */
export type Padding = "extension" | "data";

/** One event of each kind of data a major can carry, for the data plane's `data.kinds` check. */
export interface DataKindEvent {
  /** e.g. "text_data" */
  kind: string;
  event: KitEvent;
}

export interface EventMajor {
  major: number;
  /** The config's sample events, ids made unique with `prefix`, each carrying an unknown field. */
  sampleEvents(specs: EventSpec[], prefix: string): KitEvent[];
  /** One event per data kind, made from `template` (v1 has one kind, bytes, which the samples cover). */
  dataKindEvents(template: EventSpec, prefix: string): DataKindEvent[];
  encode(event: KitEvent): Buffer;
  /** An encoding equal for equal events: map entries in one order (protobuf gives maps none). */
  canonical(event: KitEvent): Buffer;
  /** What differs between an event sent and the one that came back, for messages ([] when none). */
  differences(sent: KitEvent, received: KitEvent): string[];
  carriesUnknownField(event: KitEvent): boolean;
  /** The encoded size of a batch of these events. */
  batchBytes(events: KitEvent[]): number;
  /** Copies of `template` padded until the batch they form encodes to about `targetBytes`. */
  padded(template: KitEvent, targetBytes: number, prefix: string, padding?: Padding): KitEvent[];
  /** The texts an event may carry a conformance key in: its data, id and subject. */
  keyTexts(event: KitEvent): string[];
  /** What the event breaks of CloudEvents' rules in this encoding, if anything. */
  cloudEventsProblem(event: KitEvent): string | undefined;
  /** What a passing `data.cloudevents` says this encoding's events have. */
  cloudEventsRules: string;
}

/**
 * A field number neither Event nor CloudEvent defines, carried length-delimited: a service must
 * pass it on untouched (its runtime keeps unknown fields), or events written by a newer producer
 * lose data in transit.
 */
export const UNKNOWN_FIELD_BYTES = Buffer.from(
  new BinaryWriter().tag(1000, WireType.LengthDelimited).string("flow-conform-unknown-field").finish(),
);

const PADDED_EVENT_BYTES: Record<Padding, number> = { extension: 1024 * 1024, data: 256 * 1024 };

/**
 * Copies of `template` padded until the batch they form encodes to about `targetBytes`. `pad`
 * puts a text into a copy (with its own id); `encode` measures one event.
 */
function padEvents<E>(
  template: E,
  targetBytes: number,
  prefix: string,
  padding: Padding,
  pad: (event: E, id: string, text: string) => E,
  encode: (event: E) => Uint8Array,
): E[] {
  const eventBytes = Math.min(PADDED_EVENT_BYTES[padding], targetBytes);
  const events: E[] = [];
  let total = 0;
  for (let index = 0; total < targetBytes; index += 1) {
    const id = `${prefix}-${index + 1}`;
    const want = Math.min(eventBytes, targetBytes - total);
    const overhead = encode(pad(template, id, "")).length + 32;
    if (want <= overhead) break;
    const event = pad(template, id, "p".repeat(want - overhead));
    events.push(event);
    total += encode(event).length + 6;
  }
  return events;
}

/** The JSON object an event's JSON text holds, if it holds one. */
function jsonObject(contentType: string, text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined || !/^application\/(.+\+)?json\b/.test(contentType)) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** What the two records of an event's parts (name → rendering) differ in, for messages. */
function recordDifferences(sent: Map<string, string>, received: Map<string, string>): string[] {
  const found: string[] = [];
  for (const [name, value] of sent) {
    const other = received.get(name);
    if (other === undefined) found.push(`${name} dropped`);
    else if (other !== value) found.push(`${name} ${value} became ${other}`);
  }
  for (const [name, value] of received) if (!sent.has(name)) found.push(`${name} ${value} added`);
  return found;
}

const shown = (value: string): string =>
  value.length > 40 ? `${JSON.stringify(value.slice(0, 40))}...` : JSON.stringify(value);

// ---------------------------------------------------------------------------------------------
// Major 1: event v1.

function withUnknownFieldV1(event: Event): Event {
  return Event.decode(Buffer.concat([Event.encode(event).finish(), UNKNOWN_FIELD_BYTES]));
}

const encodeV1 = (event: Event): Buffer => Buffer.from(Event.encode(event).finish());

/** The parts every event has, each major naming its spec version field its own way. */
function requiredParts(event: KitEvent, specVersionField: string, specVersion: string): Map<string, string> {
  return new Map([
    ["id", shown(event.id)],
    ["source", shown(event.source)],
    [specVersionField, shown(specVersion)],
    ["type", shown(event.type)],
  ]);
}

function partsV1(event: Event): Map<string, string> {
  const parts = requiredParts(event, "specversion", event.specversion);
  if (event.subject !== "") parts.set("subject", shown(event.subject));
  if (event.time) parts.set("time", `${event.time.seconds}s+${event.time.nanos}ns`);
  if (event.datacontenttype !== "") parts.set("datacontenttype", shown(event.datacontenttype));
  if (event.dataschema !== "") parts.set("dataschema", shown(event.dataschema));
  for (const [name, value] of Object.entries(event.extensions)) {
    const attr = value.value;
    parts.set(`extension ${name}`, attr ? `${attr.$case} ${renderValue(attr.value)}` : "without a value");
  }
  if (event.data.length > 0)
    parts.set("data", `${event.data.length} bytes ${Buffer.from(event.data).toString("hex").slice(0, 16)}`);
  if (encodeV1(event).includes(UNKNOWN_FIELD_BYTES)) parts.set("an unknown field", "(field 1000)");
  return parts;
}

function renderValue(value: unknown): string {
  if (value instanceof Uint8Array) return `0x${Buffer.from(value).toString("hex")}`;
  if (typeof value === "object" && value !== null && "seconds" in value) {
    const { seconds, nanos } = value as { seconds: bigint; nanos: number };
    return `${seconds}s+${nanos}ns`;
  }
  return typeof value === "string" ? shown(value) : String(value);
}

function padV1(padding: Padding, template: Event): (event: Event, id: string, text: string) => Event {
  const object =
    padding === "data"
      ? jsonObject(template.datacontenttype, Buffer.from(template.data).toString("utf8"))
      : undefined;
  if (object)
    return (event, id, text) => ({
      ...event,
      id,
      data: Buffer.from(JSON.stringify({ ...object, conformpad: text }), "utf8"),
    });
  return (event, id, text) => ({
    ...event,
    id,
    extensions: { ...event.extensions, conformpad: { value: { $case: "stringValue", value: text } } },
  });
}

const V1: EventMajor = {
  major: 1,
  sampleEvents: (specs, prefix) =>
    specs.map((spec, index) =>
      withUnknownFieldV1(
        createEvent({
          id: spec.id ?? `${prefix}-${index + 1}`,
          source: spec.source ?? "/flow/conform",
          type: spec.type ?? "com.example.conform",
          subject: spec.subject,
          datacontenttype: spec.datacontenttype,
          data: spec.dataText ?? spec.data,
        }) as unknown as Event,
      ),
    ),
  dataKindEvents: () => [],
  encode: (event) => encodeV1(event as Event),
  canonical: (event) => encodeV1(event as Event),
  differences: (sent, received) => recordDifferences(partsV1(sent as Event), partsV1(received as Event)),
  carriesUnknownField: (event) => encodeV1(event as Event).includes(UNKNOWN_FIELD_BYTES),
  batchBytes: (events) => EventBatch.encode({ events: events as Event[] }).finish().length,
  padded: (template, targetBytes, prefix, padding = "extension") =>
    padEvents(template as Event, targetBytes, prefix, padding, padV1(padding, template as Event), (event) =>
      Event.encode(event).finish(),
    ),
  keyTexts: (event) => {
    const { data, id, subject } = event as Event;
    return [Buffer.from(data).toString("utf8"), id, subject];
  },
  cloudEventsProblem: (event) => {
    const { id, source, type, specversion } = event as Event;
    return id === "" || source === "" || type === "" || specversion !== "1.0"
      ? `misses a required attribute: ${JSON.stringify({ id, source, type, specversion })}`
      : undefined;
  },
  cloudEventsRules: "id, source, type and specversion 1.0",
};

// ---------------------------------------------------------------------------------------------
// Major 2: event v2, the CloudEvents Protobuf Format.

type Attr = NonNullable<CloudEventAttributeValue["attr"]>;
const attribute = (attr: Attr): CloudEventAttributeValue => ({ attr });

/** A time with nanoseconds, as a ce_timestamp (2023-11-14T22:13:20.123456789Z). */
const SAMPLE_TIME = CloudEventTimestamp.fromPartial({ seconds: 1_700_000_000n, nanos: 123_456_789 });

/**
 * An extension attribute of each type of the CloudEvents type system, with values at the edges
 * an encoder gets wrong: a negative Integer (ten bytes on the wire), non-ASCII text, bytes that
 * are not UTF-8, a URI with a query, a relative URI-reference, a time with nanoseconds.
 */
export const ATTRIBUTES_OF_EVERY_TYPE: Record<string, CloudEventAttributeValue> = {
  conformboolean: attribute({ $case: "ceBoolean", value: true }),
  conforminteger: attribute({ $case: "ceInteger", value: -2_147_483_648 }),
  conformstring: attribute({ $case: "ceString", value: "conform ✓ ü" }),
  conformbytes: attribute({ $case: "ceBytes", value: Buffer.from([0x00, 0xc3, 0x28, 0xff]) }),
  conformuri: attribute({ $case: "ceUri", value: "https://example.com/conform?q=1" }),
  conformuriref: attribute({ $case: "ceUriRef", value: "/conform/ref#part" }),
  conformtimestamp: attribute({ $case: "ceTimestamp", value: SAMPLE_TIME }),
};

/** The media types the CloudEvents Protobuf Format carries as text_data (when the data is text). */
function isTextMediaType(contentType: string): boolean {
  const mediaType = (contentType.split(";")[0] ?? "").trim().toLowerCase();
  return mediaType.startsWith("text/") || /^application\/([^/]+\+)?(json|xml)$/.test(mediaType);
}

/**
 * A config's event as the CloudEvents Protobuf Format writes it: `subject`, `time`,
 * `datacontenttype` and `dataschema` as attributes of their types (a time and a schema added),
 * an extension attribute of every type, and the data as text_data for a text media type (JSON
 * `data` is application/json), else binary_data.
 */
function cloudEventOf(spec: EventSpec, id: string): CloudEvent {
  const event = CloudEvent.create();
  event.id = id;
  event.source = spec.source ?? "/flow/conform";
  event.specVersion = "1.0";
  event.type = spec.type ?? "com.example.conform";
  let contentType = spec.datacontenttype ?? "";
  let text = spec.dataText;
  if (text === undefined && spec.data !== undefined) {
    text = JSON.stringify(spec.data);
    contentType ||= "application/json";
  }
  if (spec.subject) event.attributes.subject = attribute({ $case: "ceString", value: spec.subject });
  event.attributes.time = attribute({ $case: "ceTimestamp", value: SAMPLE_TIME });
  if (contentType !== "")
    event.attributes.datacontenttype = attribute({ $case: "ceString", value: contentType });
  event.attributes.dataschema = attribute({ $case: "ceUri", value: "https://example.com/schemas/conform" });
  Object.assign(event.attributes, ATTRIBUTES_OF_EVERY_TYPE);
  if (text !== undefined && text !== "")
    event.data = isTextMediaType(contentType)
      ? { $case: "textData", value: text }
      : { $case: "binaryData", value: Buffer.from(text, "utf8") };
  return event;
}

function withUnknownFieldV2(event: CloudEvent): CloudEvent {
  return CloudEvent.decode(Buffer.concat([CloudEvent.encode(event).finish(), UNKNOWN_FIELD_BYTES]));
}

const encodeV2 = (event: CloudEvent): Buffer => Buffer.from(CloudEvent.encode(event).finish());

function canonicalV2(event: CloudEvent): Buffer {
  const names = Object.keys(event.attributes).sort();
  const attributes = Object.fromEntries(
    names.map((name) => [name, event.attributes[name] as CloudEventAttributeValue]),
  );
  return encodeV2({ ...event, attributes });
}

function dataTextV2(event: CloudEvent): string {
  const data = event.data;
  if (data?.$case === "textData") return data.value;
  if (data?.$case === "binaryData") return Buffer.from(data.value).toString("utf8");
  if (data?.$case === "protoData") return Buffer.from(data.value.value).toString("utf8");
  return "";
}

function partsV2(event: CloudEvent): Map<string, string> {
  const parts = requiredParts(event, "spec_version", event.specVersion);
  for (const [name, value] of Object.entries(event.attributes)) {
    const attr = value.attr;
    parts.set(
      `attribute ${name}`,
      attr ? `${ceType(attr.$case)} ${renderValue(attr.value)}` : "without a value",
    );
  }
  const data = event.data;
  if (data?.$case === "textData") parts.set("data", `text_data ${shown(data.value)}`);
  else if (data?.$case === "binaryData")
    parts.set("data", `binary_data 0x${Buffer.from(data.value).toString("hex").slice(0, 32)}`);
  else if (data?.$case === "protoData")
    parts.set(
      "data",
      `proto_data ${data.value.typeUrl} 0x${Buffer.from(data.value.value).toString("hex").slice(0, 32)}`,
    );
  if (encodeV2(event).includes(UNKNOWN_FIELD_BYTES)) parts.set("an unknown field", "(field 1000)");
  return parts;
}

/** The proto name of an attribute type: `ceUriRef` → `ce_uri_ref`. */
const ceType = (attrCase: Attr["$case"]): string =>
  attrCase.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);

/** The type each OPTIONAL attribute has in the CloudEvents Protobuf Format. */
const OPTIONAL_ATTRIBUTE_TYPES: Record<string, Attr["$case"]> = {
  subject: "ceString",
  datacontenttype: "ceString",
  time: "ceTimestamp",
  dataschema: "ceUri",
};
/** The REQUIRED attributes (fields of their own in the format) and `data`: no attribute may have these names. */
const FIELD_NAMES = new Set(["id", "source", "specversion", "type", "data"]);

function cloudEventsProblemV2(event: CloudEvent): string | undefined {
  const { id, source, type, specVersion } = event;
  if (id === "" || source === "" || type === "" || specVersion !== "1.0")
    return `misses a required attribute: ${JSON.stringify({ id, source, type, spec_version: specVersion })}`;
  for (const [name, value] of Object.entries(event.attributes)) {
    if (FIELD_NAMES.has(name)) return `has an attribute "${name}", which is a field of CloudEvent of its own`;
    if (!/^[a-z0-9]+$/.test(name))
      return `has an attribute named "${name}": attribute names are lower-case letters and digits`;
    const found = value.attr?.$case;
    if (found === undefined) return `has an attribute "${name}" without a value`;
    const wanted = OPTIONAL_ATTRIBUTE_TYPES[name];
    if (wanted !== undefined && found !== wanted)
      return `its "${name}" is a ${ceType(found)}, the format has it a ${ceType(wanted)}`;
  }
  if (event.data?.$case === "protoData" && event.data.value.typeUrl === "")
    return "carries proto_data without a type URL";
  return undefined;
}

function padV2(
  padding: Padding,
  template: CloudEvent,
): (event: CloudEvent, id: string, text: string) => CloudEvent {
  const contentType = template.attributes.datacontenttype?.attr;
  const object =
    padding === "data" && template.data?.$case === "textData" && contentType?.$case === "ceString"
      ? jsonObject(contentType.value, template.data.value)
      : undefined;
  if (object)
    return (event, id, text) => ({
      ...event,
      id,
      data: { $case: "textData", value: JSON.stringify({ ...object, conformpad: text }) },
    });
  return (event, id, text) => ({
    ...event,
    id,
    attributes: { ...event.attributes, conformpad: attribute({ $case: "ceString", value: text }) },
  });
}

/** The data kinds of the format, each made from `template`'s event (attributes of every type included). */
function dataKindEventsV2(template: EventSpec, prefix: string): DataKindEvent[] {
  const base = (kind: string): CloudEvent =>
    cloudEventOf({ ...template, data: undefined, dataText: undefined }, `${prefix}-${kind}`);
  const text = base("text");
  text.attributes.datacontenttype = attribute({ $case: "ceString", value: "text/plain; charset=utf-8" });
  text.data = { $case: "textData", value: "conform text ✓ ü" };
  const binary = base("binary");
  binary.attributes.datacontenttype = attribute({ $case: "ceString", value: "application/octet-stream" });
  binary.data = { $case: "binaryData", value: Buffer.from([0x00, 0x01, 0xc3, 0x28, 0xfe, 0xff]) };
  // A real protobuf message: a Timestamp, with its type URL as dataschema (the format's rule).
  const typeUrl = "type.googleapis.com/google.protobuf.Timestamp";
  const proto = base("proto");
  proto.attributes.datacontenttype = attribute({ $case: "ceString", value: "application/protobuf" });
  proto.attributes.dataschema = attribute({ $case: "ceUri", value: typeUrl });
  proto.data = {
    $case: "protoData",
    value: { typeUrl, value: Buffer.from(CloudEventTimestamp.encode(SAMPLE_TIME).finish()) },
  };
  return [
    { kind: "text_data", event: text },
    { kind: "binary_data", event: binary },
    { kind: "proto_data", event: proto },
  ];
}

const V2: EventMajor = {
  major: 2,
  sampleEvents: (specs, prefix) =>
    specs.map((spec, index) => withUnknownFieldV2(cloudEventOf(spec, spec.id ?? `${prefix}-${index + 1}`))),
  dataKindEvents: dataKindEventsV2,
  encode: (event) => encodeV2(event as CloudEvent),
  canonical: (event) => canonicalV2(event as CloudEvent),
  differences: (sent, received) =>
    recordDifferences(partsV2(sent as CloudEvent), partsV2(received as CloudEvent)),
  carriesUnknownField: (event) => encodeV2(event as CloudEvent).includes(UNKNOWN_FIELD_BYTES),
  batchBytes: (events) => CloudEventBatch.encode({ events: events as CloudEvent[] }).finish().length,
  padded: (template, targetBytes, prefix, padding = "extension") =>
    padEvents(
      template as CloudEvent,
      targetBytes,
      prefix,
      padding,
      padV2(padding, template as CloudEvent),
      (event) => CloudEvent.encode(event).finish(),
    ),
  keyTexts: (event) => {
    const cloudEvent = event as CloudEvent;
    const subject = cloudEvent.attributes.subject?.attr;
    return [dataTextV2(cloudEvent), cloudEvent.id, subject?.$case === "ceString" ? subject.value : ""];
  },
  cloudEventsProblem: (event) => cloudEventsProblemV2(event as CloudEvent),
  cloudEventsRules:
    "id, source, type, spec_version 1.0, and attributes of the format's names and types (subject, datacontenttype ce_string; time ce_timestamp; dataschema ce_uri)",
};

const MAJORS: Record<number, EventMajor> = { 1: V1, 2: V2 };

/** The events of a family contract's major (its event contract's major is the same). */
export function eventMajor(major: number): EventMajor {
  const found = MAJORS[major];
  if (!found) throw new Error(`the kit has no events of major ${major}`);
  return found;
}
