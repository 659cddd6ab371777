import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import {
  type CarriesCloudEventFields,
  CLOUD_EVENT_UNKNOWN_FIELDS,
  cloudEventUnknownFields,
  FIELD_ATTRIBUTES,
  isContextAttribute,
  isProtobufData,
  isTextMediaType,
  mediaTypeOf,
  PROTOBUF_MEDIA_TYPE,
} from "./event-conversion-rules";
import {
  encodeWith,
  ObjectPath,
  readCloudEventBatch,
  readOneCloudEvent,
  writeCloudEvent,
} from "./event-v2-codec";
import { type FlowEvent, timestampFromRfc3339 } from "./flow-event";
import {
  AttributeValue,
  Event,
  EventBatch,
  type AttributeValue as V1AttributeValue,
  Timestamp as V1Timestamp,
} from "./gen/event/v1/event";
import {
  Any,
  CloudEvent,
  CloudEventAttributeValue,
  CloudEventBatch,
  Timestamp as V2Timestamp,
} from "./gen/event/v2/event";

// Event v1 (Flow's own envelope) and event v2 (the CloudEvents Protobuf Format) carry the same
// CloudEvents; this module converts one into the other by the rules the SDK README lists ("Event
// majors"): v1 -> v2 is total, v2 -> v1 refuses, with the reason, what v1 has no room for.
// Service handlers always work on FlowEvent (v1's Event); the SDK converts at the wire for v2
// streams, and Core converts batches on edges between stages of different majors.

/** A major of the event contract: 1 (Flow's Event) or 2 (the CloudEvents Protobuf Format). */
export type EventMajor = 1 | 2;

/** An event v2 that event v1 cannot carry; the message is the reason. */
export class EventConversionError extends Error {
  override name = "EventConversionError";
}

/** An event v2 that event v1 cannot carry: its index in its batch, as much of it as fits, why. */
export interface RefusedEvent {
  index: number;
  event: FlowEvent;
  reason: string;
}

/** A batch converted from one major's encoding to another's; refused events are left out. */
export interface ConvertedBatch {
  /** The converted events, encoded in the target major (an EventBatch or a CloudEventBatch). */
  bytes: Uint8Array;
  /** How many events `bytes` holds. */
  count: number;
  /** Events that cannot convert, by index in the input batch, as much of each as v1 can carry. */
  refused: RefusedEvent[];
}

const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Event v1 as event v2. Total: every field has its place. An extension named like a context
 * attribute (which CloudEvents forbids) is left out, as the JSON format writer leaves it out.
 */
export function toCloudEvent(event: FlowEvent): CloudEvent {
  const attributes: CloudEvent["attributes"] = {};
  if (event.subject !== "") attributes.subject = attributeOf({ $case: "ceString", value: event.subject });
  if (event.time !== undefined)
    attributes.time = attributeOf({ $case: "ceTimestamp", value: timestampAs(event.time, V2Timestamp) });
  if (event.datacontenttype !== "")
    attributes.datacontenttype = attributeOf({ $case: "ceString", value: event.datacontenttype });
  if (event.dataschema !== "")
    attributes.dataschema = attributeOf({ $case: "ceUri", value: event.dataschema });
  for (const name in event.extensions) {
    if (isContextAttribute(name)) continue;
    attributes[name] = attributeOf(v2Value(event.extensions[name]?.value));
  }
  const converted = CloudEvent.create();
  converted.id = event.id;
  converted.source = event.source;
  converted.specVersion = event.specversion;
  converted.type = event.type;
  converted.attributes = attributes;
  converted.data = v2Data(event);
  const unknown = cloudEventUnknownFields(event);
  if (unknown !== undefined) converted._unknownFields = unknown;
  return converted;
}

/** Event v2 as event v1; throws an EventConversionError saying why when v1 cannot carry it. */
export function fromCloudEvent(event: CloudEvent): FlowEvent {
  const { converted, reason } = flowEventOf(event);
  if (reason !== undefined) throw new EventConversionError(reason);
  return converted;
}

/**
 * An encoded batch of major `from` (EventBatch or CloudEventBatch) encoded in major `to`. The same
 * major gives the bytes as they are. v2 -> v1 leaves out the events v1 cannot carry and lists them
 * in `refused`. Throws an Error when `bytes` is not a batch of major `from`.
 */
export function convertEventBatch(bytes: Uint8Array, from: EventMajor, to: EventMajor): ConvertedBatch {
  if (from === to) return { bytes, count: eventFrames(bytes, from).length, refused: [] };
  if (from === 1) {
    const events = decodeBatch(bytes, 1);
    return {
      bytes: encodeWith((writer) => writeCloudEventBatch(events, writer)),
      count: events.length,
      refused: [],
    };
  }
  const batch = EventBatch.create();
  const { events, refused } = readCloudEvents(bytes) ?? fromCloudEvents(decodeBatch(bytes, 2));
  batch.events = events;
  return { bytes: encodeWith((writer) => EventBatch.encode(batch, writer)), count: events.length, refused };
}

/**
 * FlowEvents as an encoded CloudEventBatch's content (its events, field 1): the bytes
 * CloudEventBatch.encode writes for their toCloudEvent, written straight from each FlowEvent
 * (event-v2-codec.ts) where that gives the same bytes, which is nearly always.
 */
export function writeCloudEventBatch(
  events: readonly FlowEvent[],
  writer: BinaryWriter = new BinaryWriter(),
): BinaryWriter {
  for (const event of events) {
    writer.uint32(10).fork();
    if (!writeCloudEvent(event, writer)) CloudEvent.encode(toCloudEvent(event), writer);
    writer.join();
  }
  return writer;
}

/** The events of an encoded CloudEventBatch as FlowEvents, and each refused one's CloudEvent. */
export interface CloudEventsRead {
  events: FlowEvent[];
  refused: RefusedEvent[];
  /** The refused events as they came, one for each of `refused`, in its order. */
  originals: CloudEvent[];
}

/**
 * What fromCloudEvents(CloudEventBatch.decode(bytes).events) gives, read straight from the bytes
 * (event-v2-codec.ts), the events the codec leaves to the reference converted by it. Undefined
 * when the batch is one for CloudEventBatch.decode as a whole (bytes the decoder reads by rules of
 * its own, malformed bytes): the caller decodes it so, in the message it came in.
 */
export function readCloudEvents(bytes: Uint8Array): CloudEventsRead | undefined {
  const read = readCloudEventBatch(bytes);
  if (read === undefined) return undefined;
  const events: FlowEvent[] = [];
  const refused: RefusedEvent[] = [];
  const originals: CloudEvent[] = [];
  read.forEach((event, index) => {
    if (!(event instanceof ObjectPath)) {
      events.push(event);
      return;
    }
    const original = CloudEvent.decode(event.frame);
    const result = flowEventOf(original);
    if (result.reason === undefined) events.push(result.converted);
    else {
      refused.push({ index, event: result.converted, reason: result.reason });
      originals.push(original);
    }
  });
  return { events, refused, originals };
}

/** Events v2 as events v1: those v1 can carry, and the others apart (see RefusedEvent). */
export function fromCloudEvents(events: readonly CloudEvent[]): {
  events: FlowEvent[];
  refused: RefusedEvent[];
} {
  const converted: FlowEvent[] = [];
  const refused: RefusedEvent[] = [];
  events.forEach((event, index) => {
    const result = flowEventOf(event);
    if (result.reason === undefined) converted.push(result.converted);
    else refused.push({ index, event: result.converted, reason: result.reason });
  });
  return { events: converted, refused };
}

/**
 * The events of an encoded batch of `major`, as FlowEvents, for messages and dead letters: never
 * throws. A v2 event v1 cannot carry comes as much of it as v1 can; an event that does not decode
 * is left out, and so is everything after a malformed part of the batch.
 */
export function decodeEvents(bytes: Uint8Array, major: EventMajor): FlowEvent[] {
  const events: FlowEvent[] = [];
  let frames: Uint8Array[];
  try {
    frames = eventFrames(bytes, major);
  } catch (error) {
    frames = (error as MalformedBatch).frames ?? [];
  }
  for (const frame of frames) {
    try {
      events.push(
        major === 1
          ? Event.decode(frame)
          : (readOneCloudEvent(frame) ?? flowEventOf(CloudEvent.decode(frame)).converted),
      );
    } catch {
      // Not an event of this major: nothing of it to show.
    }
  }
  return events;
}

function decodeBatch(bytes: Uint8Array, major: 1): Event[];
function decodeBatch(bytes: Uint8Array, major: 2): CloudEvent[];
function decodeBatch(bytes: Uint8Array, major: EventMajor): (Event | CloudEvent)[] {
  try {
    return major === 1 ? EventBatch.decode(bytes).events : CloudEventBatch.decode(bytes).events;
  } catch (error) {
    throw new Error(`the batch is not an encoded ${batchName(major)}: ${(error as Error).message}`);
  }
}

function batchName(major: EventMajor): string {
  return major === 1 ? "event v1 EventBatch" : "event v2 CloudEventBatch";
}

interface MalformedBatch extends Error {
  /** The events read before the malformed part. */
  frames?: Uint8Array[];
}

/**
 * The encoded events of a batch (field 1 of EventBatch and CloudEventBatch alike), without
 * decoding them; throws a MalformedBatch holding those read so far when the batch is cut short.
 */
function eventFrames(bytes: Uint8Array, major: EventMajor): Uint8Array[] {
  const frames: Uint8Array[] = [];
  const reader = new BinaryReader(bytes);
  try {
    while (reader.pos < reader.len) {
      const [field, wireType] = reader.tag();
      if (field === 1 && wireType === WireType.LengthDelimited) frames.push(reader.bytes());
      else reader.skip(wireType, field);
    }
  } catch (error) {
    const malformed: MalformedBatch = new Error(
      `the batch is not an encoded ${batchName(major)}: ${(error as Error).message}`,
    );
    malformed.frames = frames;
    throw malformed;
  }
  return frames;
}

/**
 * Event v2 as event v1, as much as fits, and the reason it does not all fit (the first one met).
 * What is refused is left out of `converted`; everything else is there.
 */
function flowEventOf(event: CloudEvent): { converted: FlowEvent; reason?: string } {
  let reason: string | undefined;
  const refuse = (why: string): void => {
    reason ??= why;
  };
  const converted = Event.create();
  for (const _ in event._unknownFields) {
    (converted as CarriesCloudEventFields)[CLOUD_EVENT_UNKNOWN_FIELDS] = event._unknownFields;
    break;
  }
  converted.id = event.id;
  converted.source = event.source;
  converted.specversion = event.specVersion;
  converted.type = event.type;
  for (const name in event.attributes) {
    const value = event.attributes[name]?.attr;
    if (FIELD_ATTRIBUTES.has(name)) {
      refuse(`attribute "${name}" has the name of a CloudEvents field the event has already; rename it`);
    } else if (name === "subject" || name === "datacontenttype") {
      if (value?.$case === "ceString") converted[name] = value.value;
      else refuse(wrongType(name, "a ce_string", value));
    } else if (name === "dataschema") {
      if (value?.$case === "ceUri" || value?.$case === "ceUriRef" || value?.$case === "ceString")
        converted.dataschema = value.value;
      else refuse(wrongType(name, "a ce_uri (or ce_uri_ref, ce_string)", value));
    } else if (name === "time") {
      if (value?.$case === "ceTimestamp") converted.time = timestampAs(value.value, V1Timestamp);
      else if (value?.$case === "ceString") {
        try {
          converted.time = timestampFromRfc3339(value.value);
        } catch (error) {
          refuse(`attribute "time": ${(error as Error).message}`);
        }
      } else refuse(wrongType(name, "a ce_timestamp (or an RFC 3339 ce_string)", value));
    } else {
      const extension = AttributeValue.create();
      extension.value = v1Value(value);
      converted.extensions[name] = extension;
    }
  }
  const data = event.data;
  if (data?.$case === "binaryData") converted.data = data.value;
  else if (data?.$case === "textData") converted.data = Buffer.from(data.value, "utf8");
  else if (data?.$case === "protoData") {
    const { typeUrl, value } = data.value;
    converted.data = value;
    if (converted.dataschema === "") converted.dataschema = typeUrl;
    else if (typeUrl !== "" && typeUrl !== converted.dataschema)
      refuse(
        `proto_data is a ${typeUrl} but dataschema says ${converted.dataschema}: event v1 has room for one of them`,
      );
    if (converted.datacontenttype === "") converted.datacontenttype = PROTOBUF_MEDIA_TYPE;
  }
  return { converted, reason };
}

function wrongType(name: string, expected: string, value: CloudEventAttributeValue["attr"]): string {
  return `attribute "${name}" must be ${expected}, found ${value === undefined ? "no value" : v2TypeName[value.$case]}`;
}

const v2TypeName: Record<NonNullable<CloudEventAttributeValue["attr"]>["$case"], string> = {
  ceBoolean: "a ce_boolean",
  ceInteger: "a ce_integer",
  ceString: "a ce_string",
  ceBytes: "a ce_bytes",
  ceUri: "a ce_uri",
  ceUriRef: "a ce_uri_ref",
  ceTimestamp: "a ce_timestamp",
};

/** The payload by the CloudEvents Protobuf Format: text as text, protobuf as Any, else bytes. */
function v2Data(event: FlowEvent): CloudEvent["data"] {
  if (event.data.length === 0) return undefined;
  if (isProtobufData(event)) {
    const message = Any.create();
    message.typeUrl = event.dataschema;
    message.value = event.data;
    return { $case: "protoData", value: message };
  }
  if (isTextMediaType(mediaTypeOf(event.datacontenttype))) {
    const text = strictUtf8(event.data);
    if (text !== undefined) return { $case: "textData", value: text };
  }
  return { $case: "binaryData", value: event.data };
}

/** The text of valid UTF-8 bytes (which then encode back to the same bytes), else undefined. */
function strictUtf8(bytes: Uint8Array): string | undefined {
  try {
    return STRICT_UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

function attributeOf(attr: CloudEventAttributeValue["attr"]): CloudEventAttributeValue {
  const attribute = CloudEventAttributeValue.create();
  attribute.attr = attr;
  return attribute;
}

type V1Case = NonNullable<V1AttributeValue["value"]>["$case"];
type V2Case = NonNullable<CloudEventAttributeValue["attr"]>["$case"];

/** Each attribute type of v1's AttributeValue and its CloudEventAttributeValue namesake. */
const V2_CASE: Record<V1Case, V2Case> = {
  booleanValue: "ceBoolean",
  integerValue: "ceInteger",
  stringValue: "ceString",
  binaryValue: "ceBytes",
  uriValue: "ceUri",
  uriRefValue: "ceUriRef",
  timestampValue: "ceTimestamp",
};
const V1_CASE = Object.fromEntries(Object.entries(V2_CASE).map(([v1, v2]) => [v2, v1])) as Record<
  V2Case,
  V1Case
>;

// Same value, other case name: only a timestamp is a message of its own (a Timestamp per major).
function v2Value(value: V1AttributeValue["value"]): CloudEventAttributeValue["attr"] {
  if (value === undefined) return undefined;
  const converted = value.$case === "timestampValue" ? timestampAs(value.value, V2Timestamp) : value.value;
  return { $case: V2_CASE[value.$case], value: converted } as CloudEventAttributeValue["attr"];
}

function v1Value(value: CloudEventAttributeValue["attr"]): V1AttributeValue["value"] {
  if (value === undefined) return undefined;
  const converted = value.$case === "ceTimestamp" ? timestampAs(value.value, V1Timestamp) : value.value;
  return { $case: V1_CASE[value.$case], value: converted } as V1AttributeValue["value"];
}

// The two Timestamps are the same message (google.protobuf.Timestamp's fields), so what one kept
// as unknown fields the other would have too.
function timestampAs<T extends V1Timestamp | V2Timestamp>(
  time: V1Timestamp | V2Timestamp,
  type: { create(): T },
): T {
  const converted = type.create();
  converted.seconds = time.seconds;
  converted.nanos = time.nanos;
  converted._unknownFields = time._unknownFields;
  return converted;
}
