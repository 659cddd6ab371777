import { isUtf8 } from "node:buffer";
import { isDeepStrictEqual } from "node:util";
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import {
  cloudEventUnknownFields,
  isContextAttribute,
  isProtobufData,
  isTextMediaType,
  mediaTypeOf,
  PROTOBUF_MEDIA_TYPE,
} from "./event-conversion-rules";
import { type FlowEvent, timestampFromRfc3339 } from "./flow-event";
import {
  AttributeValue,
  Event,
  type AttributeValue as V1AttributeValue,
  Timestamp as V1Timestamp,
} from "./gen/event/v1/event";
import { Any, CloudEvent, Timestamp as V2Timestamp } from "./gen/event/v2/event";

// Event v2 (the CloudEvents Protobuf Format) straight from and to FlowEvent on the wire format,
// without the generated CloudEvent objects between them: what the SDK does for every event of a
// v2 stream, and Core on an edge between majors. It gives exactly what the object-based reference
// (event-conversion.ts: toCloudEvent + CloudEvent.encode, CloudEvent.decode + fromCloudEvent)
// gives, byte for byte and field for field; what it does not read or write the same way for
// certain, it leaves to the reference (the callers fall back):
// - writing: an event with an extension whose name is an integer (an object orders such keys first,
//   so the reference writes them before `subject`) or `__proto__`;
// - reading, one event: an event the reference refuses (it says why), and whatever the reference
//   reads in a way of its own (fields it keeps as unknown, a map entry without a value or with a
//   key or value twice, a oneof set twice, an attribute named like a member of every object);
// - reading, the whole batch: bytes that are not plainly a CloudEventBatch of such events (a field
//   of the batch other than its events, a tag 0 or group, a length past its message's end), which
//   the generated decoder reads by rules of its own (it stops at a tag 0 and reads on in the
//   enclosing message) that only the decoder itself follows exactly.

/** The data of an event being read, until its own is known (Event.create() gives each its own). */
const NO_DATA = Buffer.alloc(0);

/**
 * A fresh FlowEvent as Event.create() makes it (checked below), but for `data`: NO_DATA. Typed by
 * assertion: when a minor adds a field the check below fails and the codec steps aside, so the
 * workspace still builds against the new generated Event.
 */
function newFlowEvent(): FlowEvent {
  return {
    id: "",
    source: "",
    specversion: "",
    type: "",
    subject: "",
    time: undefined,
    datacontenttype: "",
    dataschema: "",
    extensions: {},
    data: NO_DATA,
    _unknownFields: {},
  } as FlowEvent;
}

/**
 * The codec builds and reads the generated messages as their code stands today; once a contract
 * minor adds a field (vendored by `flow proto upgrade`) the shapes differ and everything goes
 * through the reference, exact until the codec learns the field.
 */
const KNOWS_EVERY_FIELD =
  isDeepStrictEqual(Event.create(), newFlowEvent()) &&
  isDeepStrictEqual(AttributeValue.create(), { value: undefined, _unknownFields: {} }) &&
  isDeepStrictEqual(V1Timestamp.create(), { seconds: 0n, nanos: 0, _unknownFields: {} }) &&
  isDeepStrictEqual(CloudEvent.create(), {
    id: "",
    source: "",
    specVersion: "",
    type: "",
    attributes: {},
    data: undefined,
    _unknownFields: {},
  }) &&
  isDeepStrictEqual(Any.create(), { typeUrl: "", value: Buffer.alloc(0), _unknownFields: {} });

// --- FlowEvent -> CloudEvent bytes ------------------------------------------------------------

// Tags of CloudEvent (id 1, source 2, spec_version 3, type 4, attributes 5, binary_data 6,
// text_data 7, proto_data 8), of an attributes entry (key 1, value 2), of CloudEventAttributeValue
// (ce_boolean 1 .. ce_timestamp 7) and of Any (type_url 1, value 2).
const ID = 10;
const SOURCE = 18;
const SPEC_VERSION = 26;
const TYPE = 34;
const ATTRIBUTE = 42;
const BINARY_DATA = 50;
const TEXT_DATA = 58;
const PROTO_DATA = 66;
const ENTRY_KEY = 10;
const ENTRY_VALUE = 18;
const CE_BOOLEAN = 8;
const CE_INTEGER = 16;
const CE_STRING = 26;
const CE_BYTES = 34;
const CE_URI = 42;
const CE_URI_REF = 50;
const CE_TIMESTAMP = 58;
const ANY_TYPE_URL = 10;
const ANY_VALUE = 18;
const SECONDS = 8;
const NANOS = 16;

/** An entry's key field, encoded once: the attributes FlowEvent has fields for. */
function keyField(name: string): Uint8Array {
  return Uint8Array.from([ENTRY_KEY, name.length, ...Buffer.from(name, "ascii")]);
}
const SUBJECT_KEY = keyField("subject");
const TIME_KEY = keyField("time");
const DATACONTENTTYPE_KEY = keyField("datacontenttype");
const DATASCHEMA_KEY = keyField("dataschema");

/**
 * A field whose value mostly repeats from one event to the next (a stream's source, type, content
 * type): once a value comes twice in a row, its encoding is kept and written as it is, bytes the
 * same calls on any writer give.
 */
class Repeated {
  private value: string | undefined;
  private bytes: Uint8Array | undefined;
  constructor(private readonly writeTo: (value: string, writer: BinaryWriter) => void) {}

  write(value: string, writer: BinaryWriter): void {
    if (value === this.value && typeof value === "string") {
      this.bytes ??= alone(this.writeTo, value);
      writer.raw(this.bytes);
      return;
    }
    this.writeTo(value, writer);
    this.value = value;
    this.bytes = undefined;
  }
}

function alone<T>(writeTo: (value: T, writer: BinaryWriter) => void, value: T): Uint8Array {
  const writer = new BinaryWriter();
  writeTo(value, writer);
  return writer.finish();
}

const SOURCE_FIELD = new Repeated((value, writer) => writer.uint32(SOURCE).string(value));
const SPEC_VERSION_FIELD = new Repeated((value, writer) => writer.uint32(SPEC_VERSION).string(value));
const TYPE_FIELD = new Repeated((value, writer) => writer.uint32(TYPE).string(value));
const SUBJECT_ATTRIBUTE = new Repeated((value, writer) =>
  stringAttribute(writer, SUBJECT_KEY, CE_STRING, value),
);
const DATACONTENTTYPE_ATTRIBUTE = new Repeated((value, writer) =>
  stringAttribute(writer, DATACONTENTTYPE_KEY, CE_STRING, value),
);
const DATASCHEMA_ATTRIBUTE = new Repeated((value, writer) =>
  stringAttribute(writer, DATASCHEMA_KEY, CE_URI, value),
);

/**
 * Writes the fields of the CloudEvent `toCloudEvent(event)` is, as CloudEvent.encode writes
 * them (the message's content: the caller frames it). False, having written nothing, for an event
 * only the reference writes exactly (see the top of this file).
 */
export function writeCloudEvent(event: FlowEvent, writer: BinaryWriter): boolean {
  if (!KNOWS_EVERY_FIELD || !writesInOrder(event.extensions) || cloudEventUnknownFields(event)) return false;
  if (event.id !== "") writer.uint32(ID).string(event.id);
  if (event.source !== "") SOURCE_FIELD.write(event.source, writer);
  if (event.specversion !== "") SPEC_VERSION_FIELD.write(event.specversion, writer);
  if (event.type !== "") TYPE_FIELD.write(event.type, writer);
  if (event.subject !== "") SUBJECT_ATTRIBUTE.write(event.subject, writer);
  if (event.time !== undefined) writeTimeAttribute(event.time, writer);
  if (event.datacontenttype !== "") DATACONTENTTYPE_ATTRIBUTE.write(event.datacontenttype, writer);
  if (event.dataschema !== "") DATASCHEMA_ATTRIBUTE.write(event.dataschema, writer);
  for (const name in event.extensions) {
    if (isContextAttribute(name)) continue;
    writer.uint32(ATTRIBUTE).fork();
    if (name !== "") writer.uint32(ENTRY_KEY).string(name);
    writer.uint32(ENTRY_VALUE).fork();
    writeAttributeValue(event.extensions[name]?.value, writer);
    writer.join().join();
  }
  writeData(event, writer);
  return true;
}

function timeAttribute(time: V1Timestamp, writer: BinaryWriter): void {
  writer.uint32(ATTRIBUTE).fork().raw(TIME_KEY).uint32(ENTRY_VALUE).fork().uint32(CE_TIMESTAMP).fork();
  writeTimestamp(time, writer);
  writer.join().join().join();
}

// The time attribute as Repeated keeps a string's: by the time's value (events of a batch often
// share their time to the millisecond), for a time with no unknown fields.
let lastSeconds: bigint | undefined;
let lastNanos: number | undefined;
let timeBytes: Uint8Array | undefined;

function writeTimeAttribute(time: V1Timestamp, writer: BinaryWriter): void {
  const { seconds, nanos } = time;
  if (
    lastSeconds !== undefined &&
    seconds === lastSeconds &&
    nanos === lastNanos &&
    !hasUnknownFields(time)
  ) {
    timeBytes ??= alone(timeAttribute, time);
    writer.raw(timeBytes);
    return;
  }
  timeAttribute(time, writer);
  if (typeof seconds === "bigint" && typeof nanos === "number" && !hasUnknownFields(time)) {
    lastSeconds = seconds;
    lastNanos = nanos;
  } else lastSeconds = lastNanos = undefined;
  timeBytes = undefined;
}

function hasUnknownFields(message: { _unknownFields?: object | undefined }): boolean {
  for (const _ in message._unknownFields) return true;
  return false;
}

/**
 * False when the reference would write the extensions in another order than `for…in` gives them
 * (or leave one out): toCloudEvent puts them in an object after `subject` .. `dataschema`, which
 * moves integer-like names (array indexes) to the front, and `__proto__` is no own property of an
 * object at all.
 */
function writesInOrder(extensions: FlowEvent["extensions"]): boolean {
  for (const name in extensions) {
    const first = name.charCodeAt(0);
    if ((first >= 0x30 && first <= 0x39 && isArrayIndex(name)) || name === "__proto__") return false;
  }
  return true;
}

/** "0", "7", "4294967294": a name an object keeps before all others, in numeric order. */
function isArrayIndex(name: string): boolean {
  const index = Number(name);
  return index < 4294967295 && String(index >>> 0) === name;
}

function stringAttribute(writer: BinaryWriter, key: Uint8Array, tag: number, value: string): void {
  writer.uint32(ATTRIBUTE).fork().raw(key).uint32(ENTRY_VALUE).fork().uint32(tag).string(value).join().join();
}

/** Event v1's Timestamp is v2's field for field, unknown fields included (as toCloudEvent copies them). */
function writeTimestamp(time: V1Timestamp, writer: BinaryWriter): void {
  V2Timestamp.encode(time, writer);
}

/** A CloudEventAttributeValue's content, as CloudEventAttributeValue.encode writes v2Value(value). */
function writeAttributeValue(value: V1AttributeValue["value"], writer: BinaryWriter): void {
  if (value === undefined) return;
  switch (value.$case) {
    case "booleanValue":
      writer.uint32(CE_BOOLEAN).bool(value.value);
      break;
    case "integerValue":
      writer.uint32(CE_INTEGER).int32(value.value);
      break;
    case "stringValue":
      writer.uint32(CE_STRING).string(value.value);
      break;
    case "binaryValue":
      writer.uint32(CE_BYTES).bytes(value.value);
      break;
    case "uriValue":
      writer.uint32(CE_URI).string(value.value);
      break;
    case "uriRefValue":
      writer.uint32(CE_URI_REF).string(value.value);
      break;
    case "timestampValue":
      writer.uint32(CE_TIMESTAMP).fork();
      writeTimestamp(value.value, writer);
      writer.join();
      break;
    // A case of no v2 namesake: the reference writes a value of no type, as here.
  }
}

/**
 * The data per the CloudEvents Protobuf Format, as toCloudEvent chooses it. text_data holds the
 * text of valid UTF-8 bytes, whose encoding is those very bytes: they are written as they are.
 */
function writeData(event: FlowEvent, writer: BinaryWriter): void {
  const data = event.data;
  if (data.length === 0) return;
  if (isProtobufData(event)) {
    writer.uint32(PROTO_DATA).fork().uint32(ANY_TYPE_URL).string(event.dataschema);
    writer.uint32(ANY_VALUE).bytes(data).join();
  } else if (isTextMediaType(mediaTypeOf(event.datacontenttype)) && isUtf8(data)) {
    writer.uint32(TEXT_DATA).bytes(data);
  } else {
    writer.uint32(BINARY_DATA).bytes(data);
  }
}

/** A writer kept between encodings, its buffer grown to what they need (unless that is large). */
let spareWriter: BinaryWriter | undefined;
const KEPT_WRITER_BYTES = 1 << 20;

/**
 * The bytes `write` writes, on a writer kept from the last call: a fresh writer grows its buffer
 * from 128 bytes by doubling, copying what it holds each time, for every batch. The bytes are a
 * copy of their own, as BinaryWriter.finish() gives them.
 */
export function encodeWith(write: (writer: BinaryWriter) => unknown): Uint8Array {
  const writer = spareWriter ?? new BinaryWriter();
  // Taken while in use: a `write` that encodes something of its own gets a writer of its own.
  spareWriter = undefined;
  write(writer);
  const bytes = writer.finish();
  // A writer left half-way by a throwing `write` is never kept (it is not put back above).
  if (bytes.length <= KEPT_WRITER_BYTES) spareWriter = writer;
  return bytes;
}

// --- CloudEvent bytes -> FlowEvent ------------------------------------------------------------

/** An event read as the reference reads it, or left to the reference: its encoding. */
export type ReadEvent = FlowEvent | ObjectPath;

/** An event the reference converts (CloudEvent.decode + fromCloudEvent): its encoding, in isolation. */
export class ObjectPath {
  constructor(readonly frame: Uint8Array) {}
}

/** The whole batch goes to the reference: the codec cannot vouch for reading it as the decoder does. */
const WHOLE_BATCH = Symbol("the whole batch");
/** One event goes to the reference; everything else of the batch reads as it should. */
const ONE_EVENT = Symbol("one event");
type Outcome = typeof WHOLE_BATCH | typeof ONE_EVENT | undefined;

/**
 * The events of an encoded CloudEventBatch as FlowEvents, each as fromCloudEvent(CloudEvent.decode)
 * gives it, or as an ObjectPath where that is for the reference to say (a refusal, a rare shape);
 * undefined when the batch as a whole is one for CloudEventBatch.decode (see the top of this file).
 */
export function readCloudEventBatch(bytes: Uint8Array): ReadEvent[] | undefined {
  if (!KNOWS_EVERY_FIELD) return undefined;
  const reader = new BinaryReader(bytes);
  const events: ReadEvent[] = [];
  try {
    while (reader.pos < reader.len) {
      if (reader.uint32() !== 10) return undefined;
      const length = reader.uint32();
      const start = reader.pos;
      const end = start + length;
      if (end > reader.len) return undefined;
      const event = newFlowEvent();
      const outcome = readCloudEvent(reader, bytes, end, event);
      if (outcome === WHOLE_BATCH) return undefined;
      events.push(outcome === ONE_EVENT ? new ObjectPath(bytes.subarray(start, end)) : event);
    }
  } catch {
    // The reference decides what bytes the decoder cannot read give (it throws its own error).
    return undefined;
  }
  return events;
}

/** One encoded CloudEvent as fromCloudEvent(CloudEvent.decode(frame)) gives it; undefined: for the reference. */
export function readOneCloudEvent(frame: Uint8Array): FlowEvent | undefined {
  if (!KNOWS_EVERY_FIELD) return undefined;
  try {
    const event = newFlowEvent();
    return readCloudEvent(new BinaryReader(frame), frame, frame.length, event) === undefined
      ? event
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The text of a string field whose bytes mostly repeat from one event to the next (a stream's
 * source, type, content type): the same bytes as last time give the same text, without decoding
 * them again; other bytes are read as reader.string() reads them.
 */
class RepeatedText {
  private bytes = new Uint8Array(0);
  private text: string | undefined;

  read(reader: BinaryReader, source: Uint8Array): string {
    const at = reader.pos;
    const length = reader.uint32();
    const start = reader.pos;
    const known = this.bytes;
    if (this.text !== undefined && sameBytes(source, start, length, known)) {
      reader.pos = start + length;
      return this.text;
    }
    reader.pos = at;
    const text = reader.string();
    if (length <= MAX_REPEATED_TEXT) {
      this.bytes = new Uint8Array(source.subarray(start, start + length));
      this.text = text;
    }
    return text;
  }
}
const MAX_REPEATED_TEXT = 128;
const SOURCE_TEXT = new RepeatedText();
const SPEC_VERSION_TEXT = new RepeatedText();
const TYPE_TEXT = new RepeatedText();
const DATACONTENTTYPE_TEXT = new RepeatedText();
const DATASCHEMA_TEXT = new RepeatedText();

/** True when the `length` bytes of `bytes` from `start` are `known`. */
function sameBytes(bytes: Uint8Array, start: number, length: number, known: Uint8Array): boolean {
  if (length !== known.length || start + length > bytes.length) return false;
  for (let index = 0; index < length; index += 1) if (bytes[start + index] !== known[index]) return false;
  return true;
}

/** The attributes FlowEvent has fields for, by the bytes of their names. */
const FIELD_ATTRIBUTE_NAMES = ["subject", "time", "datacontenttype", "dataschema"].map((name) => ({
  name,
  bytes: Buffer.from(name, "ascii"),
}));

/** The name of the entry key `reader` is at when it is one of FIELD_ATTRIBUTE_NAMES (read past), else undefined. */
function fieldAttributeName(reader: BinaryReader, bytes: Uint8Array): string | undefined {
  const at = reader.pos;
  const length = reader.uint32();
  const start = reader.pos;
  for (const known of FIELD_ATTRIBUTE_NAMES) {
    if (!sameBytes(bytes, start, length, known.bytes)) continue;
    reader.pos = start + length;
    return known.name;
  }
  reader.pos = at;
  return undefined;
}

/** The FlowEvent reading builds, and what the reading met on the way. */
interface Reading {
  event: FlowEvent;
  outcome: Outcome;
}

/**
 * Reads the CloudEvent ending at `end` of `bytes` (what `reader` reads) into `event`, as
 * flowEventOf(CloudEvent.decode) builds it.
 */
function readCloudEvent(reader: BinaryReader, bytes: Uint8Array, end: number, event: FlowEvent): Outcome {
  const reading: Reading = { event, outcome: undefined };
  // The data oneof: the last member met counts, as the decoder keeps the last.
  let dataTag = 0;
  let dataStart = 0;
  let dataEnd = 0;
  let typeUrl = "";
  let protoValue: Buffer | undefined;
  while (reader.pos < end) {
    const tag = reader.uint32();
    switch (tag) {
      case ID:
        event.id = reader.string();
        break;
      case SOURCE:
        event.source = SOURCE_TEXT.read(reader, bytes);
        break;
      case SPEC_VERSION:
        event.specversion = SPEC_VERSION_TEXT.read(reader, bytes);
        break;
      case TYPE:
        event.type = TYPE_TEXT.read(reader, bytes);
        break;
      case ATTRIBUTE:
        if (readAttribute(reader, bytes, end, reading) === WHOLE_BATCH) return WHOLE_BATCH;
        break;
      case BINARY_DATA:
      case TEXT_DATA: {
        const length = reader.uint32();
        dataTag = tag;
        dataStart = reader.pos;
        dataEnd = dataStart + length;
        reader.pos = dataEnd;
        break;
      }
      case PROTO_DATA: {
        const length = reader.uint32();
        const anyEnd = reader.pos + length;
        if (anyEnd > end) return WHOLE_BATCH;
        dataTag = tag;
        typeUrl = "";
        protoValue = undefined;
        while (reader.pos < anyEnd) {
          const field = reader.uint32();
          if (field === ANY_TYPE_URL) typeUrl = reader.string();
          else if (field === ANY_VALUE) protoValue = Buffer.from(reader.bytes());
          else if (skipUnknown(reader, field, reading) === WHOLE_BATCH) return WHOLE_BATCH;
        }
        if (reader.pos !== anyEnd) return WHOLE_BATCH;
        break;
      }
      default:
        if (skipUnknown(reader, tag, reading) === WHOLE_BATCH) return WHOLE_BATCH;
    }
    if (reader.pos > end) return WHOLE_BATCH;
  }
  if (reading.outcome !== undefined) return reading.outcome;
  if (dataTag === 0) event.data = Buffer.alloc(0);
  else if (dataTag === BINARY_DATA) event.data = Buffer.from(bytes.subarray(dataStart, dataEnd));
  else if (dataTag === TEXT_DATA) event.data = textBytes(bytes.subarray(dataStart, dataEnd));
  else {
    event.data = protoValue ?? Buffer.alloc(0);
    if (event.dataschema === "") event.dataschema = typeUrl;
    // Refused: for the reference to say why.
    else if (typeUrl !== "" && typeUrl !== event.dataschema) return ONE_EVENT;
    if (event.datacontenttype === "") event.datacontenttype = PROTOBUF_MEDIA_TYPE;
  }
  return undefined;
}

/** The decoder's text of text_data (UTF-8, invalid sequences replaced) encoded again: valid UTF-8 gives itself. */
const TEXT = new TextDecoder("utf-8", { ignoreBOM: true });
function textBytes(bytes: Uint8Array): Buffer {
  return isUtf8(bytes) ? Buffer.from(bytes) : Buffer.from(TEXT.decode(bytes), "utf8");
}

/**
 * A field the codec does not read (the decoder keeps it as unknown, the reference drops it, or
 * keeps it on a timestamp): the reference converts the event. A tag 0, a group, or a wire type
 * the decoder cannot skip: the reference reads the batch.
 */
function skipUnknown(reader: BinaryReader, tag: number, reading: Reading): Outcome {
  const wireType = tag & 7;
  if (
    tag >>> 3 === 0 ||
    !(
      wireType === WireType.Varint ||
      wireType === WireType.Bit64 ||
      wireType === WireType.LengthDelimited ||
      wireType === WireType.Bit32
    )
  )
    return WHOLE_BATCH;
  reader.skip(wireType);
  reading.outcome ??= ONE_EVENT;
  return undefined;
}

/** An attribute value as read: its tag in CloudEventAttributeValue (0: none) and its value. */
let valueTag = 0;
let value: unknown;

/** One entry of the attributes map, applied to the event as flowEventOf applies it. */
function readAttribute(reader: BinaryReader, bytes: Uint8Array, end: number, reading: Reading): Outcome {
  const length = reader.uint32();
  const entryEnd = reader.pos + length;
  if (entryEnd > end) return WHOLE_BATCH;
  let key = "";
  let keys = 0;
  let values = 0;
  valueTag = 0;
  value = undefined;
  while (reader.pos < entryEnd) {
    const tag = reader.uint32();
    if (tag === ENTRY_KEY) {
      key = fieldAttributeName(reader, bytes) ?? reader.string();
      keys += 1;
    } else if (tag === ENTRY_VALUE) {
      const text =
        key === "datacontenttype" ? DATACONTENTTYPE_TEXT : key === "dataschema" ? DATASCHEMA_TEXT : undefined;
      if (readAttributeValue(reader, bytes, entryEnd, reading, text) === WHOLE_BATCH) return WHOLE_BATCH;
      values += 1;
    } else if (skipUnknown(reader, tag, reading) === WHOLE_BATCH) return WHOLE_BATCH;
  }
  if (reader.pos !== entryEnd) return WHOLE_BATCH;
  // A key or value given twice (the decoder keeps the last), an entry of no value (it drops it).
  if (keys > 1 || values !== 1) reading.outcome ??= ONE_EVENT;
  if (reading.outcome === undefined) applyAttribute(key, reading);
  return undefined;
}

/**
 * A CloudEventAttributeValue ending at or before `entryEnd`, into valueTag and value; a string
 * read through `text` when the attribute's value mostly repeats.
 */
function readAttributeValue(
  reader: BinaryReader,
  bytes: Uint8Array,
  entryEnd: number,
  reading: Reading,
  text: RepeatedText | undefined,
): Outcome {
  const length = reader.uint32();
  const valueEnd = reader.pos + length;
  if (valueEnd > entryEnd) return WHOLE_BATCH;
  let members = 0;
  while (reader.pos < valueEnd) {
    const tag = reader.uint32();
    switch (tag) {
      case CE_BOOLEAN:
        value = reader.bool();
        break;
      case CE_INTEGER:
        value = reader.int32();
        break;
      case CE_STRING:
      case CE_URI:
      case CE_URI_REF:
        value = text === undefined ? reader.string() : text.read(reader, bytes);
        break;
      case CE_BYTES:
        value = Buffer.from(reader.bytes());
        break;
      case CE_TIMESTAMP: {
        const time = readTimestamp(reader, valueEnd);
        if (time === undefined) return WHOLE_BATCH;
        value = time;
        break;
      }
      default:
        if (skipUnknown(reader, tag, reading) === WHOLE_BATCH) return WHOLE_BATCH;
        continue;
    }
    valueTag = tag;
    members += 1;
  }
  if (reader.pos !== valueEnd) return WHOLE_BATCH;
  // The oneof set twice: the decoder keeps the last member, the reference converts it.
  if (members > 1) reading.outcome ??= ONE_EVENT;
  return undefined;
}

/**
 * A Timestamp, as event v1's (the reference copies v2's into one, unknown fields too); undefined
 * when it does not end where its length says (the decoder would read on in the enclosing message).
 */
function readTimestamp(reader: BinaryReader, valueEnd: number): V1Timestamp | undefined {
  const length = reader.uint32();
  const start = reader.pos;
  const end = start + length;
  if (end > valueEnd) return undefined;
  let seconds = 0n;
  let nanos = 0;
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === SECONDS) seconds = reader.int64() as bigint;
    else if (tag === NANOS) nanos = reader.int32();
    else {
      // Unknown fields: the generated decoder keeps them, as the reference does.
      reader.pos = start;
      const time = V1Timestamp.decode(reader, length);
      return reader.pos === end ? time : undefined;
    }
  }
  return reader.pos === end ? { seconds, nanos, _unknownFields: {} } : undefined;
}

const V1_CASE: Record<number, NonNullable<V1AttributeValue["value"]>["$case"]> = {
  [CE_BOOLEAN]: "booleanValue",
  [CE_INTEGER]: "integerValue",
  [CE_STRING]: "stringValue",
  [CE_BYTES]: "binaryValue",
  [CE_URI]: "uriValue",
  [CE_URI_REF]: "uriRefValue",
  [CE_TIMESTAMP]: "timestampValue",
};

/**
 * The attribute `key` (its value in valueTag and value) on the event, by flowEventOf's rules;
 * what the reference refuses is left to it (it says why).
 */
function applyAttribute(key: string, reading: Reading): void {
  // An attribute named twice: the decoder keeps the last value, and so does this, in the first's place.
  const event = reading.event;
  switch (key) {
    case "subject":
    case "datacontenttype":
      if (valueTag !== CE_STRING) break;
      event[key] = value as string;
      return;
    case "dataschema":
      if (valueTag !== CE_URI && valueTag !== CE_URI_REF && valueTag !== CE_STRING) break;
      event.dataschema = value as string;
      return;
    case "time":
      if (valueTag === CE_TIMESTAMP) {
        event.time = value as V1Timestamp;
        return;
      }
      if (valueTag !== CE_STRING) break;
      try {
        event.time = timestampFromRfc3339(value as string);
        return;
      } catch {
        break;
      }
    case "id":
    case "source":
    case "specversion":
    case "type":
    case "data":
      break;
    default:
      // A name an object has already (`__proto__`, `constructor`) is the reference's to read.
      if (event.extensions[key] !== undefined && !Object.hasOwn(event.extensions, key)) break;
      event.extensions[key] = {
        value:
          valueTag === 0 ? undefined : ({ $case: V1_CASE[valueTag], value } as V1AttributeValue["value"]),
        _unknownFields: {},
      };
      return;
  }
  reading.outcome = ONE_EVENT;
}
