import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";

// Turns the bytes of a ReadResponse carrying a SourceBatch into the bytes of a WriteRequest
// carrying a WriteBatch, without decoding a single event. It works because the two messages share
// their layout where it matters: SourceBatch { 1: sequence, 2: EventBatch, 3: checkpoint } and
// WriteBatch { 1: sequence, 2: EventBatch }. The events' bytes are copied once, verbatim.

const READ_RESPONSE_BATCH = 1;
const READ_RESPONSE_EXHAUSTED = 2;
const SOURCE_BATCH_SEQUENCE = 1;
const SOURCE_BATCH_EVENTS = 2;
const EXHAUSTED_LAST_SEQUENCE = 1;
/** WriteRequest field 2 (batch), length-delimited: (2 << 3) | 2. */
const WRITE_REQUEST_BATCH_TAG = 0x12;

export type SplicedReadResponse =
  | { kind: "batch"; sequence: bigint; writeRequest: Buffer }
  | { kind: "exhausted"; lastSequence: bigint }
  | { kind: "other" };

export function spliceReadResponse(bytes: Uint8Array): SplicedReadResponse {
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === READ_RESPONSE_BATCH && wireType === WireType.LengthDelimited) {
      return spliceSourceBatch(reader.bytes());
    }
    if (field === READ_RESPONSE_EXHAUSTED && wireType === WireType.LengthDelimited) {
      return { kind: "exhausted", lastSequence: readExhausted(reader.bytes()) };
    }
    reader.skip(wireType, field);
  }
  return { kind: "other" };
}

function spliceSourceBatch(sourceBatch: Uint8Array): SplicedReadResponse {
  const reader = new BinaryReader(sourceBatch);
  // Fields 1 and 2 are kept as raw (tag + value) ranges; the checkpoint and any unknown field are
  // dropped, because in a WriteBatch they would mean something else or nothing.
  const kept: Uint8Array[] = [];
  let keptLength = 0;
  let sequence = 0n;
  while (reader.pos < reader.len) {
    const start = reader.pos;
    const [field, wireType] = reader.tag();
    if (field === SOURCE_BATCH_SEQUENCE && wireType === WireType.Varint) {
      sequence = BigInt(reader.uint64());
    } else {
      reader.skip(wireType, field);
    }
    if (field === SOURCE_BATCH_SEQUENCE || field === SOURCE_BATCH_EVENTS) {
      const raw = sourceBatch.subarray(start, reader.pos);
      kept.push(raw);
      keptLength += raw.length;
    }
  }
  const header = varintPrefixed(WRITE_REQUEST_BATCH_TAG, keptLength);
  return {
    kind: "batch",
    sequence,
    writeRequest: Buffer.concat([header, ...kept], header.length + keptLength),
  };
}

function readExhausted(exhausted: Uint8Array): bigint {
  const reader = new BinaryReader(exhausted);
  let lastSequence = 0n;
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === EXHAUSTED_LAST_SEQUENCE && wireType === WireType.Varint)
      lastSequence = BigInt(reader.uint64());
    else reader.skip(wireType, field);
  }
  return lastSequence;
}

function varintPrefixed(tag: number, length: number): Buffer {
  const bytes = [tag];
  let value = length;
  while (value > 0x7f) {
    bytes.push((value & 0x7f) | 0x80);
    value >>>= 7;
  }
  bytes.push(value);
  return Buffer.from(bytes);
}
