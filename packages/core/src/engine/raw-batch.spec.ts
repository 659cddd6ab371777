import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { createEvent, type FlowEvent } from "@flow/sdk";
import { Event, EventBatch } from "../gen/event/v1/event";
import { firstEventTime } from "./first-event-time";
import {
  concatRawBatches,
  countEvents,
  cutRawBatch,
  decodeEvents,
  encodeEvents,
  fitsInOneBatch,
  type RawBatch,
  rawBatch,
  splitRawBatch,
} from "./raw-batch";
import { timedEvents } from "./test-support/codec-samples";

/** An event whose share of an encoded batch (tag and length included) is exactly `entryBytes`. */
function eventOf(id: string, entryBytes: number): FlowEvent {
  const event = createEvent({ id, source: "urn:test", type: "t", data: "" });
  for (let size = entryOf(event); size !== entryBytes; size = entryOf(event))
    event.data = Buffer.alloc(event.data.length + entryBytes - size, "x");
  return event;
}

function entryOf(event: FlowEvent): number {
  return EventBatch.encode({ events: [event as never] }).finish().length;
}

const ids = (batch: RawBatch): string[] => decodeEvents(batch).map((event) => event.id);

describe("cutRawBatch", () => {
  const E = 1_000;
  const three = encodeEvents([eventOf("a", E), eventOf("b", E), eventOf("c", E)]);

  it("gives a batch within both limits back as it is", () => {
    expect(three.bytes.length).toBe(3 * E);
    const cut = cutRawBatch(three, { maxEvents: 3, maxBytes: 3 * E });
    expect(cut.parts).toHaveLength(1);
    expect(cut.parts[0]).toBe(three);
    expect(cut.oversized).toEqual([]);
  });

  it("cuts at exactly maxBytes of encoded batch: a part of 2E bytes fits 2E, not 2E - 1", () => {
    const atTwo = cutRawBatch(three, { maxEvents: 100, maxBytes: 2 * E });
    expect(atTwo.parts.map(ids)).toEqual([["a", "b"], ["c"]]);
    expect(atTwo.parts.map((part) => part.bytes.length)).toEqual([2 * E, E]);
    const belowTwo = cutRawBatch(three, { maxEvents: 100, maxBytes: 2 * E - 1 });
    expect(belowTwo.parts.map(ids)).toEqual([["a"], ["b"], ["c"]]);
    expect(belowTwo.oversized).toEqual([]);
    const belowThree = cutRawBatch(three, { maxEvents: 100, maxBytes: 3 * E - 1 });
    expect(belowThree.parts.map(ids)).toEqual([["a", "b"], ["c"]]);
    for (const part of [...atTwo.parts, ...belowTwo.parts]) expect(countEvents(part.bytes)).toBe(part.count);
  });

  it("keeps to whichever limit is tighter, events or bytes", () => {
    expect(cutRawBatch(three, { maxEvents: 1, maxBytes: 3 * E }).parts.map(ids)).toEqual([
      ["a"],
      ["b"],
      ["c"],
    ]);
    expect(cutRawBatch(three, { maxEvents: 2, maxBytes: Number.POSITIVE_INFINITY }).parts.map(ids)).toEqual([
      ["a", "b"],
      ["c"],
    ]);
  });

  it("sets apart an event larger than maxBytes and delivers the events before and after it", () => {
    const batch = encodeEvents([eventOf("small-1", 100), eventOf("big", 5_000), eventOf("small-2", 100)]);
    const cut = cutRawBatch(batch, { maxEvents: 100, maxBytes: 4_999 });
    expect(cut.parts.map(ids)).toEqual([["small-1"], ["small-2"]]);
    expect(cut.oversized).toHaveLength(1);
    expect(cut.oversized[0]?.bytes).toBe(5_000);
    expect(cut.oversized[0]?.batch.count).toBe(1);
    expect(ids(cut.oversized[0]?.batch as RawBatch)).toEqual(["big"]);
    // One byte more and it fits, alone.
    const fits = cutRawBatch(batch, { maxEvents: 100, maxBytes: 5_000 });
    expect(fits.parts.map(ids)).toEqual([["small-1"], ["big"], ["small-2"]]);
    expect(fits.oversized).toEqual([]);
  });

  it("returns no part at all when every event is too large", () => {
    const batch = encodeEvents([eventOf("x", 300), eventOf("y", 400)]);
    const cut = cutRawBatch(batch, { maxEvents: 10, maxBytes: 299 });
    expect(cut.parts).toEqual([]);
    expect(cut.oversized.map((event) => event.bytes)).toEqual([300, 400]);
  });

  it("copies nothing: the parts are views into the batch's bytes", () => {
    const cut = cutRawBatch(three, { maxEvents: 1, maxBytes: 3 * E });
    for (const part of cut.parts) expect(part.bytes.buffer).toBe(three.bytes.buffer);
  });

  it("counts batch-level fields it does not know in every part, and gives them to every part", () => {
    const unknown = new BinaryWriter().tag(9, WireType.Varint).uint32(7).finish();
    expect(unknown.length).toBe(2);
    const batch = rawBatch(Buffer.concat([unknown, three.bytes]), 1);
    const cut = cutRawBatch(batch, { maxEvents: 100, maxBytes: 2 * E + 2 });
    expect(cut.parts.map(ids)).toEqual([["a", "b"], ["c"]]);
    expect(cut.parts.map((part) => part.bytes.length)).toEqual([2 * E + 2, E + 2]);
    for (const part of cut.parts)
      expect(Buffer.from(part.bytes.subarray(0, 2))).toEqual(Buffer.from(unknown));
    const tight = cutRawBatch(batch, { maxEvents: 100, maxBytes: E + 1 });
    expect(tight.parts).toEqual([]);
    expect(tight.oversized.map((event) => event.bytes)).toEqual([E + 2, E + 2, E + 2]);
  });

  it("gives an empty batch back as it is, and refuses bytes that end inside an event", () => {
    const empty = encodeEvents([]);
    expect(cutRawBatch(empty, { maxEvents: 1, maxBytes: 0 }).parts).toEqual([empty]);
    const torn = { bytes: three.bytes.subarray(0, three.bytes.length - 3), count: 3, major: 1 as const };
    expect(() => cutRawBatch(torn, { maxEvents: 1, maxBytes: 3 * E })).toThrow();
  });
});

describe("fitsInOneBatch", () => {
  const a = encodeEvents([eventOf("a", 600)]);
  const b = encodeEvents([eventOf("b", 400)]);

  it("says two batches fit together up to exactly maxBytes and maxEvents", () => {
    expect(fitsInOneBatch(a, b, { maxEvents: 2, maxBytes: 1_000 })).toBe(true);
    expect(fitsInOneBatch(a, b, { maxEvents: 2, maxBytes: 999 })).toBe(false);
    expect(fitsInOneBatch(a, b, { maxEvents: 1, maxBytes: 1_000 })).toBe(false);
  });
});

describe("batches of either event major", () => {
  const v1 = encodeEvents([eventOf("a", 300), eventOf("b", 300), eventOf("c", 300)]);
  const v2 = encodeEvents(decodeEvents(v1), 2);

  it("know their major, and keep it through cuts and merges", () => {
    expect([v1.major, v2.major]).toEqual([1, 2]);
    expect(v2.count).toBe(3);
    const cut = cutRawBatch(v2, { maxEvents: 2, maxBytes: Number.POSITIVE_INFINITY });
    expect(cut.parts.map((part) => [part.count, part.major])).toEqual([
      [2, 2],
      [1, 2],
    ]);
    expect(cut.parts.flatMap(ids)).toEqual(["a", "b", "c"]);
    const tight = cutRawBatch(v2, { maxEvents: 10, maxBytes: 10 });
    expect(tight.oversized.map((event) => event.batch.major)).toEqual([2, 2, 2]);
    const merged = concatRawBatches(cut.parts[0] as RawBatch, cut.parts[1] as RawBatch);
    expect(merged).toMatchObject({ count: 3, major: 2 });
    expect(ids(merged)).toEqual(["a", "b", "c"]);
    expect(() => concatRawBatches(v1, v2)).toThrow("cannot merge a batch of event v1 with one of event v2");
  });
});

describe("counting, splitting and reading raw batches", () => {
  it("counts events without decoding them, for empty, small and large batches", () => {
    for (const n of [0, 1, 7, 500]) {
      const bytes = EventBatch.encode({ events: timedEvents(n) as never }).finish();
      expect(countEvents(bytes)).toBe(n);
    }
  });

  it("counts only field 1 and steps over unknown fields of every wire type, groups included", () => {
    const writer = new BinaryWriter();
    const event = Event.encode(timedEvents(1)[0] as never).finish();
    writer.tag(1, WireType.LengthDelimited).bytes(event);
    writer.tag(2, WireType.Varint).uint64(2n ** 63n);
    writer.tag(3, WireType.Bit64).fixed64(1n);
    writer.tag(4, WireType.Bit32).fixed32(7);
    writer.tag(5, WireType.LengthDelimited).bytes(new Uint8Array(300));
    writer.tag(1, WireType.LengthDelimited).bytes(event);
    writer.tag(100_000, WireType.LengthDelimited).bytes(event);
    expect(countEvents(writer.finish())).toBe(2);
    const withGroup = new BinaryWriter()
      .tag(6, WireType.StartGroup)
      .tag(1, WireType.Varint)
      .int32(1)
      .tag(6, WireType.EndGroup)
      .tag(1, WireType.LengthDelimited)
      .bytes(event)
      .finish();
    expect(countEvents(withGroup)).toBe(1);
  });

  it("refuses bytes that end inside a field instead of counting a partial event", () => {
    const bytes = EventBatch.encode({ events: timedEvents(2) as never }).finish();
    expect(() => countEvents(bytes.subarray(0, bytes.length - 3))).toThrow();
    expect(() => countEvents(Uint8Array.of(0x0a, 0x80))).toThrow();
  });

  it("cuts a batch into parts of at most n events, in order, without decoding them", () => {
    const batch = encodeEvents(timedEvents(10));
    expect(splitRawBatch(batch, 10)).toEqual([batch]);
    const parts = splitRawBatch(batch, 4);
    expect(parts.map((part) => part.count)).toEqual([4, 4, 2]);
    expect(parts.flatMap((part) => decodeEvents(part).map((event) => event.id))).toEqual(
      timedEvents(10).map((event) => event.id),
    );
    for (const part of parts) expect(countEvents(part.bytes)).toBe(part.count);
  });

  it("gives every part the batch-level fields it does not know", () => {
    const unknown = new BinaryWriter().tag(9, WireType.Varint).uint32(7).finish();
    const withExtra = Buffer.concat([unknown, encodeEvents(timedEvents(3)).bytes]);
    const parts = splitRawBatch(rawBatch(withExtra, 1), 2);
    expect(parts.map((part) => part.count)).toEqual([2, 1]);
    for (const part of parts)
      expect(Buffer.from(part.bytes.subarray(0, unknown.length))).toEqual(Buffer.from(unknown));
  });

  it("decodes the events and the first event's time when asked", () => {
    const batch = encodeEvents(timedEvents(3));
    expect(decodeEvents(batch).map((event) => event.id)).toEqual(["e-0", "e-1", "e-2"]);
    expect(firstEventTime(batch)).toMatchObject({ seconds: 1_700_000_000n, nanos: 0 });
    expect(firstEventTime(encodeEvents([]))).toBeUndefined();
    expect(firstEventTime(encodeEvents(timedEvents(3).slice(1)))).toMatchObject({
      seconds: 1_700_000_000n,
      nanos: 1,
    });
    const untimed = createEvent({ id: "u", source: "urn:test", type: "t", data: { big: "x".repeat(500) } });
    expect(firstEventTime(encodeEvents([untimed, ...timedEvents(1)]))).toBeUndefined();
  });
});
