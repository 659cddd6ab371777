import { create, type DescField, fromBinary, ScalarType, toBinary } from "@bufbuild/protobuf";
import { Limits } from "../gen/component/v1/component";
import { Flush } from "../gen/consumer_service/v1/consumer";
import { Timestamp } from "../gen/event/v1/event";
import { allMessageDescriptors, codecOf } from "../test-support/contract-registry";
import {
  INT64_EDGES,
  INT64_OUT_OF_RANGE,
  UINT64_EDGES,
  UINT64_OUT_OF_RANGE,
} from "../test-support/int64-edges";
import { hex } from "../test-support/message-codec";

const SIGNED = new Set([ScalarType.INT64, ScalarType.SINT64, ScalarType.SFIXED64]);
const UNSIGNED = new Set([ScalarType.UINT64, ScalarType.FIXED64]);

/** Every singular 64-bit integer field of every contract, found in the descriptors. */
const fields = allMessageDescriptors().flatMap((message) =>
  message.fields
    .filter((field): field is DescField & { fieldKind: "scalar" } => field.fieldKind === "scalar")
    .filter((field) => SIGNED.has(field.scalar) || UNSIGNED.has(field.scalar))
    .map((field) => ({ message, field, signed: SIGNED.has(field.scalar) })),
);

describe("64-bit integer fields", () => {
  it("are found in every contract that has them", () => {
    const names = fields.map(({ message, field }) => `${message.name}.${field.name}`);
    expect(names).toEqual(
      expect.arrayContaining([
        "Timestamp.seconds",
        "Limits.max_event_bytes",
        "CommitNotice.sequence",
        "SourceBatch.sequence",
        "Exhausted.last_sequence",
        "InputBatch.sequence",
        "ProcessedBatch.input_sequence",
        "WriteBatch.sequence",
        "Flush.token",
        "BatchAck.sequence",
        "Flushed.token",
        "RegisteredService.registered_at_ms",
        "PipelineRun.started_at_ms",
        "StageStats.events_in",
      ]),
    );
  });

  describe.each(
    fields.map(
      ({ message, field, signed }) => [`${message.typeName}.${field.name}`, message, field, signed] as const,
    ),
  )("%s", (_name, message, field, signed) => {
    const codec = codecOf(message);
    const key = field.localName;
    const read = (value: unknown): unknown => (value as Record<string, unknown>)[key];

    it.each((signed ? INT64_EDGES : UINT64_EDGES).map((value) => [value]))(
      "carries %p exactly (binary, JSON, protobuf-es)",
      (value) => {
        const sample = codec.fromPartial({ [key]: value });
        const bytes = codec.encode(sample).finish();
        expect(read(codec.decode(bytes))).toBe(value);

        // proto3 JSON writes 64-bit integers as decimal strings; a number is accepted when exact.
        const json = codec.toJSON(sample) as Record<string, unknown>;
        expect(json[key]).toBe(value === 0n ? undefined : value.toString());
        expect(read(codec.fromJSON(JSON.parse(JSON.stringify(json))))).toBe(value);
        if (value >= -(2n ** 53n) && value <= 2n ** 53n)
          expect(read(codec.fromJSON({ [key]: Number(value) }))).toBe(value);

        // Another implementation reads the same bytes as the same value, and writes bytes ts-proto reads.
        const other = fromBinary(message, bytes) as unknown as Record<string, unknown>;
        expect(BigInt(other[key] as bigint)).toBe(value);
        expect(read(codec.decode(toBinary(message, create(message, { [key]: value } as never))))).toBe(value);
      },
    );

    it.each((signed ? INT64_OUT_OF_RANGE : UINT64_OUT_OF_RANGE).map((value) => [value]))(
      "refuses %p instead of wrapping",
      (value) => {
        expect(() => codec.encode(codec.fromPartial({ [key]: value })).finish()).toThrow(
          /too large|negative|range/i,
        );
      },
    );
  });

  it("writes the bytes every protobuf implementation writes", () => {
    // int64 -1 is a ten-byte two's-complement varint, not a zig-zag one.
    expect(hex(Timestamp.encode(Timestamp.fromPartial({ seconds: -1n })).finish())).toBe(
      "08ffffffffffffffffff01",
    );
    expect(hex(Limits.encode(Limits.fromPartial({ maxEventBytes: 2n ** 64n - 1n })).finish())).toBe(
      "18ffffffffffffffffff01",
    );
    expect(hex(Flush.encode(Flush.fromPartial({ token: 2n ** 63n })).finish())).toBe(
      "0880808080808080808001",
    );
    expect(Timestamp.decode(Buffer.from("08ffffffffffffffffff01", "hex")).seconds).toBe(-1n);
  });
});
