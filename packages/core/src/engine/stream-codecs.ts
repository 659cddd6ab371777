import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import type { FlowEvent } from "@flow/sdk";
import type { EventMajor } from "@flow/sdk/internal";
import { Checkpoint } from "../gen/checkpoint/v1/checkpoint";
import { WriteRequest } from "../gen/consumer_service/v1/consumer";
import { BatchFailure, ProcessRequest } from "../gen/processor_service/v1/processor";
import { decodeEvents, type RawBatch, rawBatch } from "./raw-batch";

/**
 * Hand-written codecs for the hot messages of the three streams, so the event batch inside them
 * stays bytes (see raw-batch.ts). They serve both majors of each family: v2's stream messages are
 * v1's with event v2 in place of event v1, field for field, so only the embedded batch (and a dead
 * letter's event) is of another encoding, which the decoders mark with the stream's major. Every
 * other message goes through the generated v1 codecs, whose bytes v2 reads the same. Fields Core
 * does not know are skipped, as protobuf readers must.
 */

function asBigint(value: bigint | string): bigint {
  return typeof value === "bigint" ? value : BigInt(value);
}

// --- source_service (v1 and v2): ReadResponse { oneof { SourceBatch batch = 1; Exhausted exhausted = 2; } }

export type SourceMessage =
  | {
      kind: "batch";
      sequence: bigint;
      batch: RawBatch;
      checkpoint: { position: Buffer; description: string };
    }
  | { kind: "exhausted"; lastSequence: bigint }
  | { kind: "unknown" };

/** A ReadResponse of a Read stream of `major` (its batches are of that event major). */
export function decodeReadResponse(frame: Buffer, major: EventMajor): SourceMessage {
  const reader = new BinaryReader(frame);
  let message: SourceMessage = { kind: "unknown" };
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.LengthDelimited)
      message = decodeSourceBatch(reader.bytes(), major);
    else if (field === 2 && wireType === WireType.LengthDelimited) message = decodeExhausted(reader.bytes());
    else reader.skip(wireType, field);
  }
  return message;
}

function decodeSourceBatch(bytes: Uint8Array, major: EventMajor): SourceMessage {
  const reader = new BinaryReader(bytes);
  let sequence = 0n;
  let batch: RawBatch = { bytes: new Uint8Array(0), count: 0, major };
  let checkpoint = { position: Buffer.alloc(0), description: "" };
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.Varint) sequence = asBigint(reader.uint64());
    else if (field === 2 && wireType === WireType.LengthDelimited) batch = rawBatch(reader.bytes(), major);
    else if (field === 3 && wireType === WireType.LengthDelimited) {
      const decoded = Checkpoint.decode(reader.bytes());
      checkpoint = { position: Buffer.from(decoded.position), description: decoded.description };
    } else reader.skip(wireType, field);
  }
  return { kind: "batch", sequence, batch, checkpoint };
}

function decodeExhausted(bytes: Uint8Array): SourceMessage {
  const reader = new BinaryReader(bytes);
  let lastSequence = 0n;
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.Varint) lastSequence = asBigint(reader.uint64());
    else reader.skip(wireType, field);
  }
  return { kind: "exhausted", lastSequence };
}

// --- processor_service / consumer_service requests (v1 and v2): { oneof { start = 1; batch = 2 {sequence = 1; EventBatch batch = 2} ... } }

/** A request on a Process or Write stream: the start message (generated codec) or a raw batch. */
export type LinkRequest<Start> = { start: Start } | { sequence: bigint; batch: RawBatch };

/**
 * `{2: {1: sequence, 2: batch}}` with the batch bytes copied once: the small header (tags,
 * lengths, sequence) is written apart and joined to the bytes by one concat, instead of copying
 * the whole batch into a writer, out of it, and into a Buffer.
 */
function encodeBatchRequest(sequence: bigint, batch: RawBatch): Buffer {
  const inner = new BinaryWriter().tag(1, WireType.Varint).uint64(sequence).finish();
  const innerLength = inner.length + 1 + varintLength(batch.bytes.length) + batch.bytes.length;
  const header = new BinaryWriter()
    .tag(2, WireType.LengthDelimited)
    .uint32(innerLength)
    .raw(inner)
    .tag(2, WireType.LengthDelimited)
    .uint32(batch.bytes.length)
    .finish();
  return Buffer.concat([header, batch.bytes], header.length + batch.bytes.length);
}

function varintLength(value: number): number {
  let length = 1;
  for (let rest = value >>> 7; rest > 0; rest >>>= 7) length += 1;
  return length;
}

export function encodeProcessRequest(request: LinkRequest<ProcessRequest>): Buffer {
  if ("start" in request) return Buffer.from(ProcessRequest.encode(request.start).finish());
  return encodeBatchRequest(request.sequence, request.batch);
}

export function encodeWriteRequest(request: LinkRequest<WriteRequest>): Buffer {
  if ("start" in request) return Buffer.from(WriteRequest.encode(request.start).finish());
  return encodeBatchRequest(request.sequence, request.batch);
}

// --- processor_service (v1 and v2): ProcessResponse { oneof { ProcessedBatch batch = 1; } }
//     ProcessedBatch { input_sequence = 1; EventBatch batch = 2; repeated DeadLetter dead_letters = 3; BatchFailure failure = 4; }

export interface ProcessorAnswer {
  inputSequence: bigint;
  batch: RawBatch;
  deadLetters: { event: FlowEvent; reason: string }[];
  failure?: { reason: string; retryable: boolean };
}

/** A ProcessResponse of a Process stream of `major`: its batch, and its dead letters' events, are of that event major. */
export function decodeProcessResponse(frame: Buffer, major: EventMajor): ProcessorAnswer | undefined {
  const reader = new BinaryReader(frame);
  let answer: ProcessorAnswer | undefined;
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.LengthDelimited)
      answer = decodeProcessedBatch(reader.bytes(), major);
    else reader.skip(wireType, field);
  }
  return answer;
}

function decodeProcessedBatch(bytes: Uint8Array, major: EventMajor): ProcessorAnswer {
  const reader = new BinaryReader(bytes);
  const answer: ProcessorAnswer = {
    inputSequence: 0n,
    batch: { bytes: new Uint8Array(0), count: 0, major },
    deadLetters: [],
  };
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.Varint) answer.inputSequence = asBigint(reader.uint64());
    else if (field === 2 && wireType === WireType.LengthDelimited)
      answer.batch = rawBatch(reader.bytes(), major);
    else if (field === 3 && wireType === WireType.LengthDelimited) {
      const letter = decodeDeadLetter(reader.bytes(), major);
      if (letter) answer.deadLetters.push(letter);
    } else if (field === 4 && wireType === WireType.LengthDelimited) {
      const failure = BatchFailure.decode(reader.bytes());
      answer.failure = { reason: failure.reason, retryable: failure.retryable };
    } else reader.skip(wireType, field);
  }
  return answer;
}

/**
 * DeadLetter { event = 1 (event v1 Event, or v2 CloudEvent); reason = 2 }, the event read in the
 * stream's major; undefined for a letter without an event that decodes.
 */
function decodeDeadLetter(
  bytes: Uint8Array,
  major: EventMajor,
): { event: FlowEvent; reason: string } | undefined {
  const reader = new BinaryReader(bytes);
  let event: Uint8Array | undefined;
  let reason = "";
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.LengthDelimited) event = reader.bytes();
    else if (field === 2 && wireType === WireType.LengthDelimited) reason = reader.string();
    else reader.skip(wireType, field);
  }
  if (!event) return undefined;
  // As a one-event batch: field 1 of either batch message holds one event, in the same encoding.
  const batch = new BinaryWriter().tag(1, WireType.LengthDelimited).bytes(event).finish();
  const [decoded] = decodeEvents({ bytes: batch, count: 1, major });
  return decoded ? { event: decoded, reason } : undefined;
}
