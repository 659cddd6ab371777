import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";

/**
 * Fields no Flow contract defines, one of each wire type (field numbers far above any in use),
 * to append to a message's encoding: a reader built on an older contract must keep them.
 * Field 9001 repeats, back to back: ts-proto regroups an unknown field's occurrences by field
 * number (see unknown-fields.spec.ts), so only adjacent repeats come back byte for byte.
 */
export function unknownFieldBytes(): Uint8Array {
  return new BinaryWriter()
    .tag(9001, WireType.Varint)
    .uint64(2n ** 63n - 1n)
    .tag(9001, WireType.Varint)
    .uint64(1n)
    .tag(9002, WireType.LengthDelimited)
    .string("from a newer minor")
    .tag(9003, WireType.Bit32)
    .fixed32(0xdeadbeef)
    .tag(9004, WireType.Bit64)
    .fixed64(2n ** 64n - 1n)
    .finish();
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  return Buffer.concat(parts.map((part) => Buffer.from(part)));
}

/** A length-delimited field holding `bytes` (a nested message, a map entry...). */
export function lengthDelimited(field: number, bytes: Uint8Array): Uint8Array {
  return new BinaryWriter().tag(field, WireType.LengthDelimited).bytes(bytes).finish();
}
