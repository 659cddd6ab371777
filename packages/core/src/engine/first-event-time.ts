import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { type Timestamp, timestampFromRfc3339 } from "@flow/sdk";
import { Timestamp as ProtoTimestamp } from "../gen/event/v1/event";
import type { RawBatch } from "./raw-batch";

/** Field 1 of EventBatch and CloudEventBatch alike: the events. */
const EVENTS_FIELD = 1;

/**
 * The CloudEvents time of the batch's first event (for latency samples): only the first event's
 * time is read, the rest of the event (its payload above all) is skipped, not decoded. None for a
 * batch Core knows only by reference (the direct data path): it holds no event to read.
 */
export function firstEventTime(batch: RawBatch): Timestamp | undefined {
  if (batch.ref) return undefined;
  const reader = new BinaryReader(batch.bytes);
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === EVENTS_FIELD && wireType === WireType.LengthDelimited)
      return batch.major === 1 ? eventTime(reader.bytes()) : cloudEventTime(reader.bytes());
    reader.skip(wireType, field);
  }
  return undefined;
}

/** event v1 `Event.time`. */
const EVENT_TIME_FIELD = 6;

function eventTime(event: Uint8Array): Timestamp | undefined {
  const reader = new BinaryReader(event);
  let time: Timestamp | undefined;
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    // Writers put it once; should it repeat, the last one wins, as in the generated decoder.
    if (field === EVENT_TIME_FIELD && wireType === WireType.LengthDelimited)
      time = ProtoTimestamp.decode(reader.bytes());
    else reader.skip(wireType, field);
  }
  return time;
}

/** event v2 `CloudEvent.attributes` (a map: entries of key 1, value 2); `CloudEventAttributeValue.ce_timestamp` and `ce_string`. */
const CLOUD_EVENT_ATTRIBUTES_FIELD = 5;
const ATTRIBUTE_STRING_FIELD = 3;
const ATTRIBUTE_TIMESTAMP_FIELD = 7;

/**
 * The `time` attribute of an event v2: a ce_timestamp, or a ce_string holding an RFC 3339 time
 * (as the conversion to v1 reads it). Only the attribute entries are read; the data is skipped.
 */
function cloudEventTime(event: Uint8Array): Timestamp | undefined {
  const reader = new BinaryReader(event);
  let time: Timestamp | undefined;
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === CLOUD_EVENT_ATTRIBUTES_FIELD && wireType === WireType.LengthDelimited)
      time = attributeTime(reader.bytes()) ?? time;
    else reader.skip(wireType, field);
  }
  return time;
}

/** The time a map entry holds when its key is `time`; undefined for any other entry. */
function attributeTime(entry: Uint8Array): Timestamp | undefined {
  const reader = new BinaryReader(entry);
  let key = "";
  let value: Uint8Array | undefined;
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.LengthDelimited) key = reader.string();
    else if (field === 2 && wireType === WireType.LengthDelimited) value = reader.bytes();
    else reader.skip(wireType, field);
  }
  if (key !== "time" || !value) return undefined;
  const attribute = new BinaryReader(value);
  let time: Timestamp | undefined;
  while (attribute.pos < attribute.len) {
    const [field, wireType] = attribute.tag();
    if (field === ATTRIBUTE_TIMESTAMP_FIELD && wireType === WireType.LengthDelimited)
      time = ProtoTimestamp.decode(attribute.bytes());
    else if (field === ATTRIBUTE_STRING_FIELD && wireType === WireType.LengthDelimited)
      time = timestampOfText(attribute.string());
    else attribute.skip(wireType, field);
  }
  return time;
}

/** An RFC 3339 time as a Timestamp; undefined when the text is not one. */
function timestampOfText(text: string): Timestamp | undefined {
  try {
    return timestampFromRfc3339(text);
  } catch {
    return undefined;
  }
}
