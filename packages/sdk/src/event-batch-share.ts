import { encodedEventBytes } from "./encoded-event-size";
import type { EventMajor } from "./event-conversion";
import { isContextAttribute, isProtobufData } from "./event-conversion-rules";
import type { AttributeValue, FlowEvent, Timestamp } from "./flow-event";
import { Event } from "./gen/event/v1/event";

/** The fields of Event counted below (and the codec's own record of unknown fields). */
const COUNTED_FIELDS = new Set([
  "id",
  "source",
  "specversion",
  "type",
  "subject",
  "time",
  "datacontenttype",
  "dataschema",
  "extensions",
  "data",
  "_unknownFields",
]);

/**
 * False once the vendored event contract has a field this count does not know (a newer minor,
 * vendored by `flow proto upgrade`): then every event is encoded instead, exact until the count
 * learns the field.
 */
const COUNTS_EVERY_FIELD = Object.keys(Event.create()).every((field) => COUNTED_FIELDS.has(field));

/** The share count of a major: eventBatchShare (1) or cloudEventBatchShare (2). */
export function batchShareIn(major: EventMajor): (event: FlowEvent) => number {
  return major === 2 ? cloudEventBatchShare : eventBatchShare;
}

/**
 * The same figure as `encodedEventBytes` (what `event` adds to an encoded EventBatch), counted
 * from the field sizes instead of encoding the event: a source that cuts every batch to
 * ReadContext.maxBatchBytes pays this on each event, and encoding would copy every payload once
 * more than gRPC does. Follows event v1's encoding as ts-proto writes it (proto3 defaults left out, a oneof member always written); an
 * event with unknown fields kept from decoding is encoded instead, since only the codec knows how
 * it writes them, and so is every event once the vendored contract has a field not counted here.
 */
export function eventBatchShare(event: FlowEvent): number {
  if (!COUNTS_EVERY_FIELD || hasUnknownFields(event)) return encodedEventBytes(event);
  let size =
    stringField(event.id) +
    stringField(event.source) +
    stringField(event.specversion) +
    stringField(event.type) +
    stringField(event.subject) +
    stringField(event.datacontenttype) +
    stringField(event.dataschema);
  if (event.time !== undefined) {
    if (hasUnknownFields(event.time)) return encodedEventBytes(event);
    size += embedded(timestampBytes(event.time));
  }
  for (const key in event.extensions) {
    const attribute = event.extensions[key];
    const value = attribute?.value;
    if (attribute === undefined) {
      size += embedded(stringField(key));
      continue;
    }
    if (hasUnknownFields(attribute) || (value?.$case === "timestampValue" && hasUnknownFields(value.value)))
      return encodedEventBytes(event);
    // Field 9, one map entry each: key = 1, value = 2 (an AttributeValue, written even when unset).
    size += attributeEntry(key, attributeBytes(value));
  }
  if (event.data.length > 0) size += embedded(event.data.length);
  return embedded(size);
}

/**
 * What `event` adds to a CloudEventBatch once converted (toCloudEvent): the four required
 * attributes as in v1; the optional ones and the extensions as entries of the attributes map
 * (field 5, one-byte tags throughout, so an extension's entry is the size it has in v1); the data
 * as text_data or binary_data of the same bytes, or as proto_data (an Any of dataschema and data).
 * What the conversion leaves out (unknown fields, extensions named like context attributes)
 * counts for nothing.
 */
export function cloudEventBatchShare(event: FlowEvent): number {
  let size =
    stringField(event.id) +
    stringField(event.source) +
    stringField(event.specversion) +
    stringField(event.type);
  if (event.subject !== "") size += stringAttribute("subject", event.subject);
  if (event.time !== undefined) {
    if (hasUnknownFields(event.time)) return encodedEventBytes(event, { major: 2 });
    size += attributeEntry("time", embedded(timestampBytes(event.time)));
  }
  if (event.datacontenttype !== "") size += stringAttribute("datacontenttype", event.datacontenttype);
  if (event.dataschema !== "") size += stringAttribute("dataschema", event.dataschema);
  for (const key in event.extensions) {
    if (isContextAttribute(key)) continue;
    const value = event.extensions[key]?.value;
    if (value?.$case === "timestampValue" && hasUnknownFields(value.value))
      return encodedEventBytes(event, { major: 2 });
    size += attributeEntry(key, attributeBytes(value));
  }
  if (event.data.length > 0)
    size += isProtobufData(event)
      ? embedded(stringField(event.dataschema) + embedded(event.data.length))
      : embedded(event.data.length);
  return embedded(size);
}

/** One entry of the attributes map: key = 1, value = 2 (a CloudEventAttributeValue of `valueBytes`). */
function attributeEntry(key: string, valueBytes: number): number {
  return embedded(stringField(key) + embedded(valueBytes));
}

function stringAttribute(key: string, value: string): number {
  return attributeEntry(key, embedded(Buffer.byteLength(value, "utf8")));
}

/** A length-delimited field of `length` bytes, with a one-byte tag (field numbers below 16). */
function embedded(length: number): number {
  return 1 + varintBytes(length) + length;
}

/** A proto3 string field: absent when empty. */
function stringField(text: string): number {
  return text.length === 0 ? 0 : embedded(Buffer.byteLength(text, "utf8"));
}

function timestampBytes(time: Timestamp): number {
  return (
    (time.seconds === 0n ? 0 : 1 + int64Bytes(time.seconds)) +
    (time.nanos === 0 ? 0 : 1 + int32Bytes(time.nanos))
  );
}

function attributeBytes(value: AttributeValue | undefined): number {
  if (value === undefined) return 0;
  switch (value.$case) {
    case "booleanValue":
      return 2;
    case "integerValue":
      return 1 + int32Bytes(value.value);
    case "binaryValue":
      return embedded(value.value.length);
    case "timestampValue":
      return embedded(timestampBytes(value.value));
    default:
      return embedded(Buffer.byteLength(value.value, "utf8"));
  }
}

/** Bytes of a non-negative varint below 2^53 (comparisons: this runs for every field of every event). */
function varintBytes(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  let bytes = 5;
  for (let rest = Math.floor(value / 0x800000000); rest > 0; rest = Math.floor(rest / 0x80)) bytes += 1;
  return bytes;
}

/** A negative int32 is sign-extended to ten bytes, as protobuf requires. */
function int32Bytes(value: number): number {
  return value < 0 ? 10 : varintBytes(value);
}

function int64Bytes(value: bigint): number {
  if (value < 0n) return 10;
  // Times are far below 2^53: one comparison, then number arithmetic instead of bigint shifts.
  if (value <= MAX_SAFE) return varintBytes(Number(value));
  let bytes = 1;
  for (let rest = value; rest >= 0x80n; rest >>= 7n) bytes += 1;
  return bytes;
}
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function hasUnknownFields(message: object): boolean {
  const unknown = (message as { _unknownFields?: Record<number, unknown> })._unknownFields;
  if (unknown === undefined) return false;
  for (const _ in unknown) return true;
  return false;
}
