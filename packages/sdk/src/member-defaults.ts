import { WireType } from "@bufbuild/protobuf/wire";

// The SDK's handlers write every major's answers in v1's shape (event-wire.ts). A later major, or a
// minor of it, adds fields to those messages (v2.1: a ProcessedBatch's output_count, output_bytes,
// ref_missing...), and the generated encoder expects each of them set: it writes `output_count`
// whenever it is not 0, `undefined` included, and fails on it. So an answer's oneof member is
// completed with the defaults of the fields it leaves out before it is encoded.

type Oneof = { $case: string; value: object };

/**
 * The default value of each case of the `response` oneof of the messages `deserialize` decodes,
 * found by decoding each member empty (the one pair of bytes `tag, 0`), as the generated code
 * creates it.
 */
function memberDefaults(deserialize: (frame: Buffer) => unknown): Map<string, object> {
  const defaults = new Map<string, object>();
  for (let field = 1; field < 16; field += 1) {
    let message: { response?: Oneof } | undefined;
    try {
      message = deserialize(Buffer.from([(field << 3) | WireType.LengthDelimited, 0])) as typeof message;
    } catch {
      continue;
    }
    const member = message?.response;
    if (member && typeof member.value === "object" && !defaults.has(member.$case))
      defaults.set(member.$case, member.value);
  }
  return defaults;
}

/**
 * A response encoder that first gives the answer's member the fields it leaves out, at their
 * defaults (see above). Messages with no `response` oneof (Describe's, Ingest's) pass as they are.
 */
export function completingMembers(
  serialize: (value: unknown) => Buffer,
  deserialize: (frame: Buffer) => unknown,
): (value: unknown) => Buffer {
  const defaults = memberDefaults(deserialize);
  if (defaults.size === 0) return serialize;
  return (value) => {
    const member = (value as { response?: Oneof } | undefined)?.response;
    const base = member && defaults.get(member.$case);
    if (!base) return serialize(value);
    return serialize({ ...(value as object), response: { ...member, value: { ...base, ...member.value } } });
  };
}
