import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import type { FlowEvent } from "@flow/sdk";
import type { EventMajor } from "@flow/sdk/internal";
import { Checkpoint } from "../gen/checkpoint/v1/checkpoint";
import { type BatchAck, Flushed } from "../gen/consumer_service/v1/consumer";
import { WriteRequest } from "../gen/consumer_service/v2/consumer";
import { BatchFailure } from "../gen/processor_service/v1/processor";
import { ProcessRequest } from "../gen/processor_service/v2/processor";
import { ReadRequest } from "../gen/source_service/v2/source";
import { encodeReferenceRequest, pushedBatch, readDirectAnswer } from "./direct-path-fields";
import { decodeEvents, type RawBatch, rawBatch } from "./raw-batch";
import { DIRECT_PATH_MAJOR } from "./reference-batch";

/**
 * Hand-written codecs for the hot messages of the three streams, so the event batch inside them
 * stays bytes (see raw-batch.ts). They serve both majors of each family: v2's stream messages are
 * v1's with event v2 in place of event v1, field for field, so only the embedded batch (and a dead
 * letter's event) is of another encoding, which the decoders mark with the stream's major. v2
 * (minor 1) adds the direct data path's fields - references instead of batches, `returned`,
 * `ref_missing` (framed by direct-path-fields.ts) - which are read on a v2 stream only (a v1 stream
 * never carries them). Every other message goes through generated codecs: the start messages
 * through v2's (v1's fields, numbered alike, plus the peers and accepts_bundles, which only a v2
 * stream is given: a v1 service reads the same bytes), the rest through v1's. Bundles (v2.2) are
 * framed around these codecs (bundled-link-stream.ts). Fields Core does not know are skipped, as
 * protobuf readers must.
 */

function asBigint(value: bigint | string): bigint {
  return typeof value === "bigint" ? value : BigInt(value);
}

// --- source_service (v1 and v2): ReadRequest (generated v2 codec: its ReadStart has the peers) and ReadResponse

export function encodeReadRequest(request: ReadRequest): Buffer {
  return Buffer.from(ReadRequest.encode(request).finish());
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

/**
 * SourceBatch { sequence = 1; batch = 2; checkpoint = 3; v2: PeerRef ref = 4; uint32 event_count = 5;
 * uint64 batch_bytes = 6 }: with `ref` (the direct data path) the batch is that reference, its
 * count and size, whatever else it holds.
 */
function decodeSourceBatch(bytes: Uint8Array, major: EventMajor): SourceMessage {
  const reader = new BinaryReader(bytes);
  let sequence = 0n;
  let batch: RawBatch = { bytes: new Uint8Array(0), count: 0, major };
  let checkpoint = { position: Buffer.alloc(0), description: "" };
  const pushed = pushedBatch();
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.Varint) sequence = asBigint(reader.uint64());
    else if (field === 2 && wireType === WireType.LengthDelimited) batch = rawBatch(reader.bytes(), major);
    else if (field === 3 && wireType === WireType.LengthDelimited) {
      const decoded = Checkpoint.decode(reader.bytes());
      checkpoint = { position: Buffer.from(decoded.position), description: decoded.description };
    } else if (major !== DIRECT_PATH_MAJOR || !pushed.read(reader, field, wireType, 4))
      reader.skip(wireType, field);
  }
  return { kind: "batch", sequence, batch: pushed.batch() ?? batch, checkpoint };
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

// --- processor_service / consumer_service requests (v1 and v2): { oneof { start = 1; batch = 2 {sequence = 1; EventBatch batch = 2; v2: PeerRef ref = 3} ... } }

/** A request on a Process or Write stream: the start message (generated codec) or a raw batch. */
export type LinkRequest<Start> = { start: Start } | { sequence: bigint; batch: RawBatch };

/**
 * The most bytes a ProcessRequest or WriteRequest adds around the EventBatch it carries (see
 * `encodeBatchRequest`): the `batch` field's tag (1) and length (at most 5), the sequence's tag
 * (1) and varint (at most 10), the EventBatch's tag (1) and length (at most 5). A service that
 * accepts requests of N bytes takes EventBatches of N - this, whatever the sequence.
 */
export const BATCH_REQUEST_FRAMING_BYTES = 23;

/**
 * `{2: {1: sequence, 2: batch}}` with the batch bytes copied once: the small header (tags,
 * lengths, sequence) is written apart and joined to the bytes by one concat, instead of copying
 * the whole batch into a writer, out of it, and into a Buffer. A batch known only by reference
 * goes as `{2: {1: sequence, 3: ref}}` (direct-path-fields.ts).
 */
function encodeBatchRequest(sequence: bigint, batch: RawBatch): Buffer {
  if (batch.ref) return encodeReferenceRequest(sequence, batch.ref);
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
//     ProcessedBatch { input_sequence = 1; EventBatch batch = 2; repeated DeadLetter dead_letters = 3; BatchFailure failure = 4;
//                      v2: PeerRef output_ref = 5; uint32 output_count = 6; uint64 output_bytes = 7;
//                          CloudEventBatch returned = 8; bool ref_missing = 9; }

export interface ProcessorAnswer {
  inputSequence: bigint;
  /** The output: its events, or (output_ref, the direct data path) the reference it was pushed under. */
  batch: RawBatch;
  deadLetters: { event: FlowEvent; reason: string }[];
  failure?: { reason: string; retryable: boolean };
  /** With a failure, for an input sent by reference: its events, for Core to retry or dead-letter. */
  returned?: RawBatch;
  /** For an input sent by reference: its events never reached the processor. */
  refMissing?: boolean;
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
  const pushed = pushedBatch();
  const direct = major === DIRECT_PATH_MAJOR;
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
    } else if (
      !direct ||
      !(pushed.read(reader, field, wireType, 5) || readDirectAnswer(reader, field, wireType, answer, 8))
    )
      reader.skip(wireType, field);
  }
  answer.batch = pushed.batch() ?? answer.batch;
  return answer;
}

// --- consumer_service (v1 and v2): WriteResponse { oneof { BatchAck ack = 1; Flushed flushed = 2; } }
//     BatchAck { uint64 sequence = 1; AckStatus status = 2; string reason = 3; v2: CloudEventBatch returned = 4; bool ref_missing = 5; }

/** A BatchAck as the generated codec reads it, with the direct data path's answers (v2), `returned` kept as bytes. */
export interface ConsumerAck extends BatchAck {
  /** With a status other than WRITTEN, for a batch sent by reference: its events, for Core to retry or dead-letter. */
  returned?: RawBatch;
  /** For a batch sent by reference: its events never reached the consumer. */
  refMissing?: boolean;
}

/** A WriteResponse, shaped as the generated one. */
export interface ConsumerAnswer {
  response?: { $case: "ack"; value: ConsumerAck } | { $case: "flushed"; value: Flushed };
}

/** A WriteResponse of a Write stream of `major`. */
export function decodeWriteResponse(frame: Buffer, major: EventMajor): ConsumerAnswer {
  const reader = new BinaryReader(frame);
  const answer: ConsumerAnswer = {};
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.LengthDelimited)
      answer.response = { $case: "ack", value: decodeBatchAck(reader.bytes(), major) };
    else if (field === 2 && wireType === WireType.LengthDelimited)
      answer.response = { $case: "flushed", value: Flushed.decode(reader.bytes()) };
    else reader.skip(wireType, field);
  }
  return answer;
}

function decodeBatchAck(bytes: Uint8Array, major: EventMajor): ConsumerAck {
  const reader = new BinaryReader(bytes);
  const ack: ConsumerAck = { sequence: 0n, status: 0, reason: "" };
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.Varint) ack.sequence = asBigint(reader.uint64());
    else if (field === 2 && wireType === WireType.Varint) ack.status = reader.int32();
    else if (field === 3 && wireType === WireType.LengthDelimited) ack.reason = reader.string();
    else if (major !== DIRECT_PATH_MAJOR || !readDirectAnswer(reader, field, wireType, ack, 4))
      reader.skip(wireType, field);
  }
  return ack;
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
