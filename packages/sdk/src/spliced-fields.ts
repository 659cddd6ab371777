import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { encodeWith } from "./event-v2-codec";

// An answer of a family stream (ReadResponse, ProcessResponse, WriteResponse) is a oneof of one
// member. Some of the member's fields the SDK already holds as bytes: a CloudEventBatch it encoded
// for the peers that turned out too large for them, the input batch it returns with a failure
// (the direct data path). Those are spliced in as they are, after what the generated encoder writes
// of the member, instead of being decoded into objects for the encoder to encode again. (Protobuf
// readers take fields in any order; a field written twice would merge, so the member leaves them
// unset.)

const SPLICED = Symbol("fields the SDK holds as bytes");

/** A length-delimited field of an answer's member, as bytes: its tag (`field << 3 | 2`) and content. */
export interface SplicedField {
  tag: number;
  bytes: Uint8Array;
}

/** The tag of length-delimited field `field`. */
export function lengthDelimitedTag(field: number): number {
  return (field << 3) | WireType.LengthDelimited;
}

/** `member` (the value of an answer's oneof) with `fields` to be written after its encoded fields. */
export function withSplicedFields<Member extends object>(member: Member, fields: SplicedField[]): Member {
  return Object.assign(member, { [SPLICED]: fields });
}

function splicedFieldsOf(message: unknown): SplicedField[] | undefined {
  const member = (message as { response?: { value?: { [SPLICED]?: SplicedField[] } } } | undefined)?.response
    ?.value;
  return member?.[SPLICED];
}

/** A response encoder that also writes the fields spliced into the answer's member (see above). */
export function splicingFields(serialize: (value: unknown) => Buffer): (value: unknown) => Buffer {
  return (value) => {
    const bytes = serialize(value);
    const fields = splicedFieldsOf(value);
    return fields ? withFieldsInMember(bytes, fields) : bytes;
  };
}

/** `message` (one length-delimited member and nothing else) with `fields` after the member's own. */
function withFieldsInMember(message: Buffer, fields: readonly SplicedField[]): Buffer {
  const reader = new BinaryReader(message);
  const tag = reader.uint32();
  const length = reader.uint32();
  const start = reader.pos;
  if ((tag & 7) !== WireType.LengthDelimited || start + length !== message.length)
    throw new Error(
      `cannot splice fields into an answer of ${message.length} bytes that is not one oneof member (tag ${tag}): the SDK splices only into family stream answers`,
    );
  const bytes = encodeWith((writer) => {
    writer.uint32(tag).fork().raw(message.subarray(start));
    for (const field of fields) writer.uint32(field.tag).uint32(field.bytes.length).raw(field.bytes);
    writer.join();
  });
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
