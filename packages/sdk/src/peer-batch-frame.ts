import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { bundledMessages } from "./bundle-frames";
import { writeCloudEventBatch } from "./event-conversion";
import { encodeWith } from "./event-v2-codec";
import type { FlowEvent } from "./flow-event";
import { PeerRef } from "./gen/peer/v1/peer";
import { lengthDelimitedTag } from "./spliced-fields";

// IngestRequest {PeerRef ref = 1; CloudEventBatch batch = 2} (processor_service and consumer_service
// v2.1; from v2.3 also `bundle = 15`, several IngestRequests in one, bundle-frames.ts) as bytes: the direct data path never decodes the events it carries. The receiver keeps the
// batch as a view of the frame it came in; the sender encodes the events once, straight into the
// frame every peer gets.

const REF = lengthDelimitedTag(1);
const BATCH = lengthDelimitedTag(2);
/** CloudEventBatch.events = 1: each event is one such field. */
const EVENT = lengthDelimitedTag(1);

/** A IngestRequest as Ingest reads it: the reference decoded, the CloudEventBatch as its bytes (a view of the frame). */
export interface PeerBatchFrame {
  /** Undefined when the IngestRequest carried none. */
  ref: PeerRef | undefined;
  batch: Uint8Array;
}

/** Reads a IngestRequest frame, keeping the batch as bytes (see above). */
export function readPeerBatch(frame: Buffer): PeerBatchFrame {
  const reader = new BinaryReader(frame);
  let ref: PeerRef | undefined;
  let batch: Uint8Array = new Uint8Array(0);
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.LengthDelimited) ref = PeerRef.decode(reader.bytes());
    else if (field === 2 && wireType === WireType.LengthDelimited) batch = reader.bytes();
    else reader.skip(wireType, field);
  }
  return { ref, batch };
}

/**
 * The IngestRequests one Ingest message carries, read as readPeerBatch does: the one it is, or each
 * of a bundle's, in order (a bundle in a bundle is refused, see bundledMessages).
 */
export function readPeerBatches(frame: Buffer): PeerBatchFrame[] {
  return (bundledMessages(frame) ?? [frame]).map(readPeerBatch);
}

/** A IngestRequest frame to push, and its CloudEventBatch: a view of the frame. */
export interface PeerBatchBytes {
  frame: Buffer;
  batch: Uint8Array;
}

/** The IngestRequest of `events` under `ref`, the events encoded once as they would be for Core. */
export function peerBatchOfEvents(ref: PeerRef, events: readonly FlowEvent[]): PeerBatchBytes {
  const bytes = encodeWith((writer) => {
    PeerRef.encode(ref, writer.uint32(REF).fork()).join();
    writeCloudEventBatch(events, writer.uint32(BATCH).fork()).join();
  });
  const frame = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Past the ref, the batch's tag and length: what is left is the batch.
  const reader = new BinaryReader(frame);
  reader.uint32();
  reader.skip(WireType.LengthDelimited);
  reader.uint32();
  const length = reader.uint32();
  return { frame, batch: frame.subarray(reader.pos, reader.pos + length) };
}

/** The IngestRequest of CloudEventBatch bytes under `ref`. */
export function peerBatchOfBytes(ref: PeerRef, batch: Uint8Array): Buffer {
  const bytes = encodeWith((writer) => {
    PeerRef.encode(ref, writer.uint32(REF).fork()).join();
    writer.uint32(BATCH).uint32(batch.length).raw(batch);
  });
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * How many events an encoded CloudEventBatch holds (what Core learns as the batch's count when the
 * batch itself goes to a peer): its `events` fields, skipped over, none read.
 */
export function cloudEventCount(batch: Uint8Array): number {
  const reader = new BinaryReader(batch);
  let count = 0;
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag === EVENT) count += 1;
    reader.skip(tag & 7, tag >>> 3);
  }
  return count;
}
