import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import type * as grpc from "@grpc/grpc-js";
import {
  fromCloudEvents,
  type RefusedEvent,
  readCloudEvents,
  toCloudEvent,
  writeCloudEventBatch,
} from "./event-conversion";
import { encodeWith } from "./event-v2-codec";
import type { FlowEvent } from "./flow-event";
import { type CloudEvent, CloudEventBatch } from "./gen/event/v2/event";
import { completingMembers } from "./member-defaults";
import { rpcNameOf, serviceNameOf } from "./method-binding";
import { readPeerBatches } from "./peer-batch-frame";
import { splicingFields } from "./spliced-fields";

// A family contract's v2 carries the same messages as v1 with event v2 (CloudEvent) where v1 has
// event v1 (FlowEvent). The SDK serves v2 with the very handlers it serves v1 with: the v2
// definition's codec converts at the wire, events v2 to FlowEvents as a request is decoded and
// FlowEvents to events v2 as a response is encoded. Every family message that carries events has
// them in the `batch` member of its oneof (`request` or `response`): `batch.events`, and a
// processor's answer also `deadLetters[].event`.

interface EventParts {
  batch?: { events: unknown[] };
  deadLetters?: { event?: unknown }[];
}

type FamilyMessage = {
  request?: { $case: string; value: unknown };
  response?: { $case: string; value: unknown };
};

const REFUSED = Symbol("events v1 cannot carry");

/**
 * The v2 events a request brought that FlowEvent cannot carry, left out of its batch (see
 * event-conversion.ts): a processor dead-letters them, a consumer fails the batch naming them.
 * `batch` is the `value` of a request's `batch` member.
 */
export function refusedEventsOf(batch: object): readonly RefusedEvent[] {
  return (batch as { [REFUSED]?: RefusedEvent[] })[REFUSED] ?? [];
}

/** Each refused event's original, so its dead letter carries the event as it came. */
const originals = new WeakMap<FlowEvent, CloudEvent>();

/**
 * The major of a generated family definition, from its package: 2 for
 * `…processor_service.v2.ProcessorService`; 1 for a service whose package names none (served as
 * before majors: events as event v1).
 */
export function majorOf(definition: grpc.ServiceDefinition): number {
  const major = /\.v(\d+)\.[^.]+$/.exec(serviceNameOf(definition))?.[1];
  return major === undefined ? 1 : Number(major);
}

/**
 * How the v2 events of a stream message become FlowEvents and back: `direct` reads and writes
 * their bytes with the codec (event-v2-codec.ts), `objects` through the generated CloudEvent
 * objects and toCloudEvent/fromCloudEvent, the reference the codec equals (kept for tests and
 * benchmarks).
 */
export type EventConversionPath = "direct" | "objects";

/**
 * A copy of a v2 family definition whose server side speaks FlowEvent: requests are decoded with
 * their events as FlowEvents, responses take FlowEvents (and v1's shape: member-defaults.ts) and are
 * encoded as events v2, with any fields the SDK holds as bytes spliced in (spliced-fields.ts). Ingest, the direct data path, reads
 * each IngestRequest (or each of a bundle's) with its batch kept as bytes (peer-batch-frame.ts): no event is decoded there.
 * (The client side is left as generated.)
 */
export function withEventConversion(
  definition: grpc.ServiceDefinition,
  path: EventConversionPath = "direct",
): grpc.ServiceDefinition {
  const copy: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [key, method] of Object.entries(definition)) {
    const readRequest = (frame: Buffer) => readEvents(method.requestDeserialize(frame));
    const writeResponse = (value: unknown) => method.responseSerialize(writeEvents(value));
    copy[key] = {
      ...method,
      requestDeserialize:
        rpcNameOf(method) === "Ingest"
          ? readPeerBatches
          : path === "direct"
            ? directRequestReader(method, readRequest)
            : readRequest,
      responseSerialize: splicingFields(
        completingMembers(
          path === "direct" ? directResponseWriter(method, writeResponse) : writeResponse,
          method.responseDeserialize,
        ),
      ),
    };
  }
  return copy as grpc.ServiceDefinition;
}

function eventParts(part: FamilyMessage["request"]): EventParts | undefined {
  return part?.$case === "batch" ? (part.value as EventParts) : undefined;
}

/** The decoded request with its events as FlowEvents; the refused ones apart (refusedEventsOf). */
function readEvents(message: unknown): unknown {
  const value = eventParts((message as FamilyMessage).request);
  if (value?.batch) setEvents(value, value.batch.events as CloudEvent[]);
  return message;
}

/** `value`'s batch: `events` as FlowEvents, the refused ones apart. */
function setEvents(value: EventParts, events: CloudEvent[]): void {
  const converted = fromCloudEvents(events);
  if (value.batch) value.batch.events = converted.events;
  else value.batch = { events: converted.events };
  keepRefused(
    value,
    converted.refused,
    converted.refused.map((refused) => events[refused.index] as CloudEvent),
  );
}

/**
 * Gives a batch request (the `value` of its `batch` member) the events of CloudEventBatch bytes
 * that came apart from it (a batch pushed to Ingest, named by `ref`): read exactly as the request's
 * own batch would have been, refused events included (refusedEventsOf). Throws what the generated
 * decoder throws for bytes that are not a CloudEventBatch.
 */
export function readBatchBytes(value: object, bytes: Uint8Array): void {
  const parts = value as EventParts;
  const read = readCloudEvents(bytes);
  if (read) {
    parts.batch = { events: read.events };
    keepRefused(parts, read.refused, read.originals);
  } else setEvents(parts, CloudEventBatch.decode(bytes).events);
}

function keepRefused(value: EventParts, refused: RefusedEvent[], came: readonly CloudEvent[]): void {
  if (refused.length === 0) return;
  refused.forEach((event, index) => {
    const original = came[index];
    if (original) originals.set(event.event, original);
  });
  (value as { [REFUSED]?: RefusedEvent[] })[REFUSED] = refused;
}

/** The response to encode, its FlowEvents as events v2 (a copy: the handler's objects stay as they are). */
function writeEvents(message: unknown, withoutBatchEvents = false): unknown {
  const response = (message as FamilyMessage).response;
  const value = eventParts(response);
  if (!value) return message;
  const converted: EventParts = { ...value };
  if (value.batch)
    converted.batch = {
      ...value.batch,
      events: withoutBatchEvents ? [] : (value.batch.events as FlowEvent[]).map(toCloudEvent),
    };
  if (value.deadLetters)
    converted.deadLetters = value.deadLetters.map((letter) => ({
      ...letter,
      event:
        letter.event && (originals.get(letter.event as FlowEvent) ?? toCloudEvent(letter.event as FlowEvent)),
    }));
  return { ...(message as object), response: { ...response, value: converted } };
}

// --- The direct path: the events' bytes read and written by the codec ---------------------------
//
// A stream message carries its events in one place: the `batch` member of its oneof (field K of
// the message), whose own field J is the CloudEventBatch. The generated codec still reads and
// writes everything else of the message (whatever fields a newer minor adds): the request is
// decoded with that CloudEventBatch emptied, the response encoded with no batch events, and the
// codec reads or writes the events' bytes in their place. Anything that is not plainly so (the
// batch member or its batch twice, a malformed message, bytes the codec leaves to the decoder as a
// whole) goes the reference way above, which gives what it always gave.

/** Where a message's CloudEventBatch is: the tags of the `batch` member (K) and of its batch (J). */
interface BatchPath {
  member: number;
  batch: number;
}

/**
 * The BatchPath of the messages `deserialize` decodes, found by asking it: the one pair of field
 * numbers (below 16) whose message is a `batch` member holding a batch of events. Undefined for
 * messages without one (Describe, a consumer's answers).
 */
function batchPathOf(
  deserialize: (frame: Buffer) => unknown,
  oneof: "request" | "response",
): BatchPath | undefined {
  let found: BatchPath | undefined;
  for (let member = 1; member < 16; member += 1) {
    for (let batch = 1; batch < 16; batch += 1) {
      const path = {
        member: (member << 3) | WireType.LengthDelimited,
        batch: (batch << 3) | WireType.LengthDelimited,
      };
      let message: FamilyMessage;
      try {
        message = deserialize(Buffer.from([path.member, 2, path.batch, 0])) as FamilyMessage;
      } catch {
        continue;
      }
      const part = message?.[oneof];
      if (part?.$case !== "batch" || !Array.isArray((part.value as EventParts | undefined)?.batch?.events))
        continue;
      if (found) return undefined;
      found = path;
    }
  }
  return found;
}

/** A length-delimited field: where its length starts, where its content starts and ends. */
interface FieldSpan {
  length: number;
  start: number;
  end: number;
}

/**
 * The one field tagged `tag` among the fields of `bytes` from `start` to `end`; undefined when
 * there is none or more than one, or the fields are not plainly well formed (tag 0, groups).
 */
function onlyField(bytes: Uint8Array, start: number, end: number, tag: number): FieldSpan | undefined {
  const reader = new BinaryReader(bytes.subarray(0, end));
  reader.pos = start;
  let found: FieldSpan | undefined;
  try {
    while (reader.pos < end) {
      const fieldTag = reader.uint32();
      const wireType = fieldTag & 7;
      if (fieldTag >>> 3 === 0 || wireType === WireType.StartGroup || wireType === WireType.EndGroup)
        return undefined;
      if (fieldTag !== tag) {
        reader.skip(wireType);
        continue;
      }
      if (found) return undefined;
      const length = reader.pos;
      const size = reader.uint32();
      found = { length, start: reader.pos, end: reader.pos + size };
      reader.pos = found.end;
    }
  } catch {
    return undefined;
  }
  return reader.pos === end ? found : undefined;
}

/** The batch member and its CloudEventBatch in an encoded message, when each is there once. */
function batchSpans(bytes: Uint8Array, path: BatchPath): { member: FieldSpan; batch: FieldSpan } | undefined {
  const member = onlyField(bytes, 0, bytes.length, path.member);
  const batch = member && onlyField(bytes, member.start, member.end, path.batch);
  return batch && member && { member, batch };
}

/** `method`'s request decoder on the direct path, falling back to `reference` (see above). */
function directRequestReader(
  method: grpc.MethodDefinition<unknown, unknown>,
  reference: (frame: Buffer) => unknown,
): (frame: Buffer) => unknown {
  const path = batchPathOf(method.requestDeserialize, "request");
  if (!path) return reference;
  return (frame) => {
    const spans = batchSpans(frame, path);
    const read = spans && readCloudEvents(frame.subarray(spans.batch.start, spans.batch.end));
    if (!spans || !read) return reference(frame);
    let message: FamilyMessage;
    try {
      message = method.requestDeserialize(withEmptyBatch(frame, spans)) as FamilyMessage;
    } catch {
      // Malformed elsewhere: the reference throws what it always threw.
      return reference(frame);
    }
    const value = eventParts(message.request);
    if (value?.batch?.events.length !== 0) return reference(frame);
    value.batch.events = read.events;
    keepRefused(value, read.refused, read.originals);
    return message;
  };
}

/** The frame with the CloudEventBatch emptied: the batch member's length less the events'. */
function withEmptyBatch(frame: Buffer, { member, batch }: { member: FieldSpan; batch: FieldSpan }): Buffer {
  const bytes = encodeWith((writer) =>
    writer
      .raw(frame.subarray(0, member.length))
      .uint32(member.end - member.start - (batch.end - batch.length) + 1)
      .raw(frame.subarray(member.start, batch.length))
      .uint32(0)
      .raw(frame.subarray(batch.end)),
  );
  return asBuffer(bytes);
}

/** `method`'s response encoder on the direct path, falling back to `reference` (see above). */
function directResponseWriter(
  method: grpc.MethodDefinition<unknown, unknown>,
  reference: (value: unknown) => Buffer,
): (value: unknown) => Buffer {
  const path = batchPathOf(method.responseDeserialize, "response");
  if (!path) return reference;
  return (value) => {
    const events = eventParts((value as FamilyMessage).response)?.batch?.events as FlowEvent[] | undefined;
    if (!events?.length) return reference(value);
    let bytes: Buffer | undefined;
    try {
      bytes = withEvents(method.responseSerialize(writeEvents(value, true)), path, events);
    } catch {
      // Something the encoder refuses: the reference throws what it always threw.
    }
    return bytes ?? reference(value);
  };
}

/**
 * The bytes the generated encoder writes for the message with its events, from those it wrote
 * with none (`bytes`): the events go first in the CloudEventBatch (before anything it kept as
 * unknown), each enclosing length grown to hold them.
 */
function withEvents(bytes: Buffer, path: BatchPath, events: readonly FlowEvent[]): Buffer | undefined {
  const spans = batchSpans(bytes, path);
  if (!spans) return undefined;
  const { member, batch } = spans;
  const written = encodeWith((writer) => {
    writer.raw(bytes.subarray(0, member.length)).fork();
    writer.raw(bytes.subarray(member.start, batch.length)).fork();
    writeCloudEventBatch(events, writer);
    writer.raw(bytes.subarray(batch.start, batch.end)).join();
    writer.raw(bytes.subarray(batch.end, member.end)).join();
    writer.raw(bytes.subarray(member.end));
  });
  return asBuffer(written);
}

/** The bytes as a Buffer, without copying them (gRPC sends Buffers). */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
