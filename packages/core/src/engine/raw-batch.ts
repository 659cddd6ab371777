import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import type { FlowEvent } from "@flow/sdk";
import { convertEventBatch, decodeEvents as decodeEventsOf, type EventMajor } from "@flow/sdk/internal";
import { type Event, EventBatch } from "../gen/event/v1/event";
import type { PeerRef } from "../gen/peer/v1/peer";
import { assertHoldsEvents } from "./reference-batch";

/**
 * An event batch as it arrived on the wire: Core moves batches between services without decoding
 * their events (it never needs to read them), so a batch costs a copy, not a parse. Only the
 * event count is read, by walking the top-level fields. A batch is in the encoding of one event
 * major - an EventBatch (v1) or a CloudEventBatch (v2): both hold their events in field 1, so
 * counting, cutting and merging are the same for both; only reading the events differs.
 */
export interface RawBatch {
  /** The serialized EventBatch or CloudEventBatch message (a view into the received frame); empty for a reference. */
  bytes: Uint8Array;
  count: number;
  /** The event major of the encoding: that of the stream it arrived on (family v1 carries event v1, v2 v2). */
  major: EventMajor;
  /**
   * Set for a batch on the direct data path (see reference-batch.ts): its events went from the
   * stage upstream straight to the stages downstream, under this reference, and Core holds none.
   */
  ref?: PeerRef;
  /** With `ref`: the size in bytes of the CloudEventBatch that was pushed, as the upstream said. */
  size?: number;
}

const EVENTS_FIELD = 1;

export function rawBatch(bytes: Uint8Array, major: EventMajor): RawBatch {
  return { bytes, count: countEvents(bytes), major };
}

/**
 * The event major a family contract major carries: family v1 carries event v1, v2 event v2 (the
 * CloudEvents Protobuf Format). Throws for a major with no event encoding Core knows.
 */
export function eventMajorOf(contractMajor: number): EventMajor {
  if (contractMajor === 1 || contractMajor === 2) return contractMajor;
  throw new Error(`no event encoding is known for contract major ${contractMajor}`);
}

/**
 * How many events an encoded EventBatch holds, without decoding them: a walk over the top-level
 * tags that reads varints in place. Core counts every batch twice (from the source, from each
 * processor), so this walk allocates nothing; a BinaryReader made a view per skipped field and
 * was about 8% of Core's CPU at batch 100. Groups (deprecated, never in EventBatch) and malformed
 * bytes take the careful path, which throws on what it cannot read.
 */
export function countEvents(bytes: Uint8Array): number {
  const cursor = { pos: 0 };
  let count = 0;
  while (cursor.pos < bytes.length) {
    const tag = readVarint(bytes, cursor);
    if (tag < 0) return countEventsCarefully(bytes);
    const wireType = tag % 8;
    if (wireType === WireType.Varint) {
      if (readVarint(bytes, cursor, Number.POSITIVE_INFINITY) < 0) return countEventsCarefully(bytes);
    } else if (wireType === WireType.Bit64) cursor.pos += 8;
    else if (wireType === WireType.Bit32) cursor.pos += 4;
    else if (wireType === WireType.LengthDelimited) {
      const length = readVarint(bytes, cursor);
      if (length < 0) return countEventsCarefully(bytes);
      cursor.pos += length;
      if ((tag - wireType) / 8 === EVENTS_FIELD) count += 1;
    } else return countEventsCarefully(bytes);
  }
  return cursor.pos === bytes.length ? count : countEventsCarefully(bytes);
}

/** 128^i: the weight of a varint's i-th byte (five bytes carry any field number or length). */
const VARINT_SCALE = [1, 128, 16_384, 2_097_152, 268_435_456] as const;

/**
 * The varint at `cursor.pos`, moving the cursor past it; -1 when it runs off the end or is longer
 * than `maxBytes` (a field number or a length never needs more than five). A varint value that is
 * skipped, not used, may be up to ten bytes: pass Infinity and ignore the (then inexact) value.
 */
function readVarint(
  bytes: Uint8Array,
  cursor: { pos: number },
  maxBytes: number = VARINT_SCALE.length,
): number {
  let value = 0;
  for (let index = 0; ; index++) {
    if (cursor.pos >= bytes.length || index >= maxBytes) return -1;
    const byte = bytes[cursor.pos++] as number;
    if (index < VARINT_SCALE.length) value += (byte & 0x7f) * (VARINT_SCALE[index] as number);
    if ((byte & 0x80) === 0) return value;
  }
}

/** The same count through a BinaryReader: groups, and errors for bytes that are not protobuf. */
function countEventsCarefully(bytes: Uint8Array): number {
  return topLevelFields(bytes).filter((field) => field.isEvent).length;
}

/** Each top-level field of an EventBatch as its bytes (tag included); throws on bytes it cannot read. */
function topLevelFields(bytes: Uint8Array): { isEvent: boolean; entry: Uint8Array }[] {
  const reader = new BinaryReader(bytes);
  const fields: { isEvent: boolean; entry: Uint8Array }[] = [];
  while (reader.pos < reader.len) {
    const start = reader.pos;
    const [field, wireType] = reader.tag();
    reader.skip(wireType, field);
    const isEvent = field === EVENTS_FIELD && wireType === WireType.LengthDelimited;
    fields.push({ isEvent, entry: bytes.subarray(start, reader.pos) });
  }
  if (reader.pos > reader.len) throw new RangeError("premature end of EventBatch");
  return fields;
}

/** The largest batch a stage takes: events, and bytes of the encoded EventBatch. */
export interface BatchLimit {
  maxEvents: number;
  /** Bytes of the EventBatch itself (the request's framing, BATCH_REQUEST_FRAMING_BYTES, taken off); Infinity for none. */
  maxBytes: number;
}

/** An event no batch within the limit can carry: it is dead-lettered with its size and the limit. */
export interface OversizedEvent {
  /** The event alone, as a one-event batch (`decodeEvents` reads it for the dead letter). */
  batch: RawBatch;
  /** The smallest EventBatch that could carry it, in bytes (what exceeds `maxBytes`). */
  bytes: number;
}

export interface RawBatchCut {
  /** Batches within the limit, the events in their order. */
  parts: RawBatch[];
  /** The events too large for any batch, in their order; empty in the common case. */
  oversized: OversizedEvent[];
}

const NOTHING_OVERSIZED: readonly OversizedEvent[] = Object.freeze([]);

/**
 * The batch cut into batches of at most `limit.maxEvents` events and `limit.maxBytes` bytes, in
 * order, with the events that fit no batch set apart (they never block the events around them).
 * The cut is between the events' bytes, so nothing is decoded. A batch within the limit comes back
 * as it is; otherwise the parts are views into its bytes (nothing is copied) unless the batch has
 * fields other than events (none in EventBatch nor CloudEventBatch, but a newer writer may add batch-level ones):
 * those go with every part, counted in its size, and that rare case takes the careful reader.
 */
export function cutRawBatch(batch: RawBatch, limit: BatchLimit): RawBatchCut {
  assertHoldsEvents(batch, "cut");
  const { maxEvents, maxBytes } = limit;
  // An empty batch has nothing to cut (a processor that filtered everything still answers).
  if (batch.count === 0 || (batch.count <= maxEvents && batch.bytes.length <= maxBytes))
    return { parts: [batch], oversized: NOTHING_OVERSIZED as OversizedEvent[] };
  return cutEventsOnly(batch, limit) ?? cutCarefully(batch, limit);
}

/**
 * The cut of a batch holding only events (field 1), in one walk over the tags that allocates only
 * the parts; undefined for any other field, a group or malformed bytes (the careful path decides).
 */
function cutEventsOnly(
  { bytes, major }: RawBatch,
  { maxEvents, maxBytes }: BatchLimit,
): RawBatchCut | undefined {
  const parts: RawBatch[] = [];
  let oversized: OversizedEvent[] | undefined;
  const cursor = { pos: 0 };
  let partStart = 0;
  let partEvents = 0;
  const closePart = (end: number): void => {
    if (partEvents > 0) parts.push({ bytes: bytes.subarray(partStart, end), count: partEvents, major });
    partEvents = 0;
  };
  while (cursor.pos < bytes.length) {
    const fieldStart = cursor.pos;
    const tag = readVarint(bytes, cursor);
    if (tag !== EVENTS_TAG) return undefined;
    const length = readVarint(bytes, cursor);
    if (length < 0 || cursor.pos + length > bytes.length) return undefined;
    cursor.pos += length;
    const entryBytes = cursor.pos - fieldStart;
    if (entryBytes > maxBytes) {
      closePart(fieldStart);
      oversized ??= [];
      oversized.push({
        batch: { bytes: bytes.subarray(fieldStart, cursor.pos), count: 1, major },
        bytes: entryBytes,
      });
      partStart = cursor.pos;
      continue;
    }
    if (partEvents === maxEvents || cursor.pos - partStart > maxBytes) {
      closePart(fieldStart);
      partStart = fieldStart;
    }
    partEvents += 1;
  }
  closePart(bytes.length);
  return { parts, oversized: oversized ?? (NOTHING_OVERSIZED as OversizedEvent[]) };
}

/** Field 1 (events), length-delimited: the only tag an EventBatch or CloudEventBatch holds, one byte. */
const EVENTS_TAG = EVENTS_FIELD * 8 + WireType.LengthDelimited;

/** The cut through the careful reader: batch-level fields go with every part; throws on bytes it cannot read. */
function cutCarefully({ bytes, major }: RawBatch, { maxEvents, maxBytes }: BatchLimit): RawBatchCut {
  const fields = topLevelFields(bytes);
  const others = fields.filter((field) => !field.isEvent).map((field) => field.entry);
  const othersBytes = others.reduce((sum, entry) => sum + entry.length, 0);
  const parts: RawBatch[] = [];
  const oversized: OversizedEvent[] = [];
  let part: Uint8Array[] = [];
  let partBytes = othersBytes;
  const closePart = (): void => {
    if (part.length > 0)
      parts.push({ bytes: Buffer.concat([...others, ...part]), count: part.length, major });
    part = [];
    partBytes = othersBytes;
  };
  for (const { isEvent, entry } of fields) {
    if (!isEvent) continue;
    if (othersBytes + entry.length > maxBytes) {
      closePart();
      oversized.push({ batch: { bytes: entry, count: 1, major }, bytes: othersBytes + entry.length });
      continue;
    }
    if (part.length === maxEvents || partBytes + entry.length > maxBytes) closePart();
    part.push(entry);
    partBytes += entry.length;
  }
  closePart();
  return { parts, oversized };
}

/**
 * The batch cut into batches of at most `maxEvents` events, in order, for a stage whose
 * `batch.maxSize` is smaller than what reaches it (`cutRawBatch` without a byte limit).
 */
export function splitRawBatch(batch: RawBatch, maxEvents: number): RawBatch[] {
  return cutRawBatch(batch, { maxEvents, maxBytes: Number.POSITIVE_INFINITY }).parts;
}

/**
 * Whether `first` then `second` fit one batch within `limit`: what batching while busy asks before
 * merging two waiting deliveries. The bytes are those of their concatenation (`concatRawBatches`).
 */
export function fitsInOneBatch(first: RawBatch, second: RawBatch, limit: BatchLimit): boolean {
  return (
    first.count + second.count <= limit.maxEvents &&
    first.bytes.length + second.bytes.length <= limit.maxBytes
  );
}

/**
 * One batch with the events of `first` then `second`: protobuf concatenates repeated fields. Both
 * must be of one major (a link's batches all are: the Router converts them to the stage's).
 */
export function concatRawBatches(first: RawBatch, second: RawBatch): RawBatch {
  assertHoldsEvents(first, "merge");
  assertHoldsEvents(second, "merge");
  if (first.major !== second.major)
    throw new Error(`cannot merge a batch of event v${first.major} with one of event v${second.major}`);
  return {
    bytes: Buffer.concat([first.bytes, second.bytes], first.bytes.length + second.bytes.length),
    count: first.count + second.count,
    major: first.major,
  };
}

/**
 * The events themselves, for the rare paths that need them (dead letters, spans), read in the
 * batch's major; never throws (see the SDK's decodeEvents: a v2 event v1 cannot carry comes as
 * much of it as fits).
 */
export function decodeEvents(batch: RawBatch): FlowEvent[] {
  assertHoldsEvents(batch, "read the events of");
  return decodeEventsOf(batch.bytes, batch.major);
}

/** Events as a batch of `major` (default v1, FlowEvent's own encoding). */
export function encodeEvents(events: FlowEvent[], major: EventMajor = 1): RawBatch {
  const v1 = EventBatch.encode({ events: events as Event[] }).finish();
  if (major === 1) return { bytes: v1, count: events.length, major };
  const { bytes, count } = convertEventBatch(v1, 1, major);
  return { bytes, count, major };
}
