import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import type { FlowEvent, Timestamp } from "@flow/sdk";
import { Event, EventBatch } from "../gen/event/v1/event";

/**
 * An EventBatch as it arrived on the wire: Core moves batches between services without decoding
 * their events (it never needs to read them), so a batch costs a copy, not a parse. Only the
 * event count is read, by walking the top-level fields.
 */
export interface RawBatch {
  /** The serialized EventBatch message (a view into the received frame). */
  bytes: Uint8Array;
  count: number;
}

const EVENTS_FIELD = 1;

export function rawBatch(bytes: Uint8Array): RawBatch {
  return { bytes, count: countEvents(bytes) };
}

/** How many events an encoded EventBatch holds, without decoding them. */
export function countEvents(bytes: Uint8Array): number {
  const reader = new BinaryReader(bytes);
  let count = 0;
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === EVENTS_FIELD && wireType === WireType.LengthDelimited) count += 1;
    reader.skip(wireType, field);
  }
  return count;
}

/** The events themselves, for the rare paths that need them (dead letters). */
export function decodeEvents(batch: RawBatch): FlowEvent[] {
  return EventBatch.decode(batch.bytes).events as FlowEvent[];
}

/** The CloudEvents time of the batch's first event (for latency samples), decoding only that event. */
export function firstEventTime(batch: RawBatch): Timestamp | undefined {
  const reader = new BinaryReader(batch.bytes);
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === EVENTS_FIELD && wireType === WireType.LengthDelimited)
      return Event.decode(reader.bytes()).time;
    reader.skip(wireType, field);
  }
  return undefined;
}

export function encodeEvents(events: FlowEvent[]): RawBatch {
  return { bytes: EventBatch.encode({ events: events as Event[] }).finish(), count: events.length };
}
