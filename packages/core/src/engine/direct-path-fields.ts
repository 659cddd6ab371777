import { type BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { PeerRef } from "../gen/peer/v1/peer";
import { type RawBatch, rawBatch } from "./raw-batch";
import { DIRECT_PATH_MAJOR, referenceBatch } from "./reference-batch";

/**
 * The direct data path's fields in the stream messages (family contract v2, minor 1), for the
 * hand-written codecs of stream-codecs.ts: a batch named by reference instead of carried, in
 * requests and answers, and what a service answers about a batch it was sent by reference. Each
 * message that has them has them in the same order in consecutive field numbers, so one reader
 * serves each group wherever it sits. Only a v2 stream carries them (its codecs call these on v2
 * only; on v1 the fields are unknown and skipped).
 */

/**
 * A reader for the three fields that name a batch pushed on the direct data path - a PeerRef,
 * then its event count (uint32) and size (uint64) in the next two field numbers - as SourceBatch
 * (4, 5, 6) and ProcessedBatch (5, 6, 7) both have them: `read` takes the field when it is one of
 * them, `batch` is the reference batch once a ref was read.
 */
export function pushedBatch() {
  let ref: PeerRef | undefined;
  let count = 0;
  let size = 0;
  return {
    read(reader: BinaryReader, field: number, wireType: WireType, refField: number): boolean {
      if (field === refField && wireType === WireType.LengthDelimited) ref = decodePeerRef(reader.bytes());
      else if (field === refField + 1 && wireType === WireType.Varint) count = reader.uint32();
      else if (field === refField + 2 && wireType === WireType.Varint) size = Number(reader.uint64());
      else return false;
      return true;
    },
    batch: (): RawBatch | undefined => (ref ? referenceBatch(ref, count, size) : undefined),
  };
}

/** A PeerRef, without the generated codec's unknown fields (Core compares and prints references). */
function decodePeerRef(bytes: Uint8Array): PeerRef {
  const { stream, handle } = PeerRef.decode(bytes);
  return { stream, handle: BigInt(handle) };
}

/**
 * `returned` (a batch) and `ref_missing` (a bool), in two field numbers in a row from
 * `returnedField`, as ProcessedBatch (8, 9) and BatchAck (4, 5) both have them, read into
 * `answer`; false for any other field.
 */
export function readDirectAnswer(
  reader: BinaryReader,
  field: number,
  wireType: WireType,
  answer: { returned?: RawBatch; refMissing?: boolean },
  returnedField: number,
): boolean {
  if (field === returnedField && wireType === WireType.LengthDelimited)
    answer.returned = rawBatch(reader.bytes(), DIRECT_PATH_MAJOR);
  else if (field === returnedField + 1 && wireType === WireType.Varint) answer.refMissing = reader.bool();
  else return false;
  return true;
}

/**
 * A batch request by reference: `{2: {1: sequence, 3: ref}}`, InputBatch.ref and WriteBatch.ref
 * (the batch's events went to the service on its Ingest stream).
 */
export function encodeReferenceRequest(sequence: bigint, ref: PeerRef): Buffer {
  const inner = new BinaryWriter()
    .tag(1, WireType.Varint)
    .uint64(sequence)
    .tag(3, WireType.LengthDelimited)
    .bytes(PeerRef.encode(ref).finish())
    .finish();
  return Buffer.from(new BinaryWriter().tag(2, WireType.LengthDelimited).bytes(inner).finish());
}
