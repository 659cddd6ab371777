import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { ComponentDescriptor, type Family } from "../gen/component/v1/component";
import { Event } from "../gen/event/v1/event";
import { ReadResponse } from "../gen/source_service/v1/source";
import { hex } from "../test-support/message-codec";
import { fullEvent } from "../test-support/samples/event-samples";
import { concatBytes, lengthDelimited, unknownFieldBytes } from "../test-support/wire-bytes";

/**
 * A service built on an older minor of a contract must forward what a newer one added. These
 * cases go beyond the per-message checks in every-message.spec.ts: unknown fields nested deep in
 * a stream message, unknown enum values, and how ts-proto orders what it kept.
 */
describe("unknown fields", () => {
  it("survive at every level of a nested stream message", () => {
    // ReadResponse{ batch(1): SourceBatch{ sequence(1), batch(2): EventBatch{ events(1): Event } } },
    // each level carrying fields this contract version does not define.
    const event = concatBytes(Event.encode(fullEvent).finish(), unknownFieldBytes());
    const eventBatch = concatBytes(lengthDelimited(1, event), unknownFieldBytes());
    const sourceBatch = concatBytes(
      new BinaryWriter().uint32(8).uint64(42n).finish(),
      lengthDelimited(2, eventBatch),
      unknownFieldBytes(),
    );
    const response = concatBytes(lengthDelimited(1, sourceBatch), unknownFieldBytes());

    const decoded = ReadResponse.decode(response);
    if (decoded.response?.$case !== "batch") throw new Error("expected a batch");
    const inner = decoded.response.value.batch?.events[0];
    expect(inner?.id).toBe(fullEvent.id);
    expect(Object.keys(inner?._unknownFields ?? {})).toHaveLength(4);
    expect(hex(ReadResponse.encode(decoded).finish())).toBe(hex(response));
  });

  it("keep an enum value this version does not know on the wire (JSON cannot: it says UNRECOGNIZED)", () => {
    const bytes = ComponentDescriptor.encode(
      ComponentDescriptor.fromPartial({ name: "x", family: 7 as Family }),
    ).finish();
    const decoded = ComponentDescriptor.decode(bytes);
    expect(decoded.family).toBe(7);
    expect(hex(ComponentDescriptor.encode(decoded).finish())).toBe(hex(bytes));
    // Known ts-proto deviation from proto3 JSON (which writes unknown enum values as numbers).
    expect((ComponentDescriptor.toJSON(decoded) as { family: string }).family).toBe("UNRECOGNIZED");
  });

  it("are regrouped by field number, keeping the order within each field (ts-proto)", () => {
    const a = new BinaryWriter().tag(9001, WireType.Varint).uint64(1n).finish();
    const b = new BinaryWriter().tag(9002, WireType.LengthDelimited).string("b").finish();
    const c = new BinaryWriter().tag(9001, WireType.Varint).uint64(2n).finish();
    const known = Event.encode(Event.fromPartial({ id: "e" })).finish();
    const reencoded = Event.encode(Event.decode(concatBytes(known, a, b, c))).finish();
    // Semantically the same message: repeated fields keep their order, and fields of different
    // numbers carry no order in protobuf.
    expect(hex(reencoded)).toBe(hex(concatBytes(known, a, c, b)));
  });

  it("are dropped by JSON, which has no place for them", () => {
    const decoded = Event.decode(concatBytes(Event.encode(fullEvent).finish(), unknownFieldBytes()));
    expect(hex(Event.encode(Event.fromJSON(Event.toJSON(decoded))).finish())).toBe(
      hex(Event.encode(fullEvent).finish()),
    );
  });
});
