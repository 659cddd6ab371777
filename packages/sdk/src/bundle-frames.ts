import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { encodeWith } from "./event-v2-codec";

// Bundles (family contracts v2.2): every data-stream message - ReadRequest, ReadResponse,
// ProcessRequest, ProcessResponse, WriteRequest, WriteResponse - has a oneof member `bundle = 15`,
// a message whose only field, `repeated <the same message> = 1`, carries several messages of the
// stream in one. On the wire a bundle is therefore the member's tag and length, then each carried
// message as field 1 with its own length: the carried messages keep their encoding byte for byte,
// so a writer bundles messages it has already encoded and a reader decodes each with the codec it
// uses for a message that came alone.

/** The field number of the `bundle` member in every family's data-stream messages (v2.2). */
export const BUNDLE_FIELD = 15;

/** Whether a family stream served or opened at `major` can carry bundles (v2 from minor 2; v1 never). */
export function bundlesAt(major: number): boolean {
  return major >= 2;
}

const BUNDLE_TAG = (BUNDLE_FIELD << 3) | WireType.LengthDelimited;
const CARRIED_TAG = (1 << 3) | WireType.LengthDelimited;

/** One stream message that is a bundle of `messages` (each an encoded message of the stream). */
export function bundleFrame(messages: readonly Uint8Array[]): Buffer {
  const bytes = encodeWith((writer) => {
    writer.uint32(BUNDLE_TAG).fork();
    for (const message of messages) writer.uint32(CARRIED_TAG).uint32(message.length).raw(message);
    writer.join();
  });
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * The messages a bundle carries, each as its encoding (a view of `frame`, not a copy), in order;
 * undefined when `frame` is not a bundle (its first field is another member), so the common case
 * costs one tag read. A bundle inside a bundle, which the contracts forbid, is refused rather
 * than read as a message.
 */
export function bundledMessages(frame: Uint8Array): Buffer[] | undefined {
  if (frame.length === 0) return undefined;
  const reader = new BinaryReader(frame);
  if (reader.uint32() !== BUNDLE_TAG) return undefined;
  const bundle = new BinaryReader(reader.bytes());
  const messages: Buffer[] = [];
  while (bundle.pos < bundle.len) {
    const [field, wireType] = bundle.tag();
    if (field !== 1 || wireType !== WireType.LengthDelimited) {
      bundle.skip(wireType, field);
      continue;
    }
    const message = bundle.bytes();
    if (message.length > 0 && new BinaryReader(message).uint32() === BUNDLE_TAG)
      throw new Error("a bundle carries a bundle: the family contracts (v2.2) forbid it");
    messages.push(Buffer.from(message.buffer, message.byteOffset, message.byteLength));
  }
  return messages;
}
