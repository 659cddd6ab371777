import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { createEvent, type FlowEvent } from "@flow/sdk";
import { EventBatch } from "../gen/event/v1/event";
import { convertRawBatch } from "./batch-conversion";
import {
  BATCH_REQUEST_FRAMING_BYTES,
  concatRawBatches,
  countEvents,
  cutRawBatch,
  decodeEvents,
  encodeEvents,
  fitsInOneBatch,
  type RawBatch,
  rawBatch,
  referenceBatch,
} from "./raw-batch";
import { encodeProcessRequest, encodeWriteRequest } from "./stream-codecs";

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

describe("BATCH_REQUEST_FRAMING_BYTES", () => {
  it("bounds what a Process or Write request adds around its batch, at the largest sequence", () => {
    // A 3 MiB batch: four-byte lengths; a five-byte length would need a 256 MiB batch.
    const batch = encodeEvents([eventOf("big", 3 * 1024 * 1024)]);
    for (const encode of [encodeProcessRequest, encodeWriteRequest]) {
      const request = encode({ sequence: 2n ** 64n - 1n, batch });
      expect(request.length - batch.bytes.length).toBe(BATCH_REQUEST_FRAMING_BYTES - 2);
      const small = encode({ sequence: 1n, batch: encodeEvents([eventOf("s", 100)]) });
      expect(small.length - 100).toBeLessThanOrEqual(BATCH_REQUEST_FRAMING_BYTES);
    }
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

describe("a batch known only by reference (the direct data path)", () => {
  const ref = referenceBatch({ stream: "up", handle: 3n }, 4, 400);
  const bug =
    "a batch it knows only by reference (stream up handle 3, 4 events on the direct data path): this is a bug in Flow Core";

  it("has no bytes, the upstream's count and size, and event major 2", () => {
    expect(ref).toEqual({
      bytes: new Uint8Array(0),
      count: 4,
      size: 400,
      major: 2,
      ref: { stream: "up", handle: 3n },
    });
  });

  it("is never read, cut, merged nor converted: each throws, naming the reference", () => {
    const held = encodeEvents([eventOf("a", 50)], 2);
    expect(() => decodeEvents(ref)).toThrow(`Core cannot read the events of ${bug}`);
    expect(() => cutRawBatch(ref, { maxEvents: 1, maxBytes: 10 })).toThrow(`Core cannot cut ${bug}`);
    expect(() => concatRawBatches(held, ref)).toThrow(`Core cannot merge ${bug}`);
    expect(() => convertRawBatch(ref, 1)).toThrow(`Core cannot convert ${bug}`);
    // In its own major it needs no conversion, and comes back as it is.
    expect(convertRawBatch(ref, 2).batch).toBe(ref);
  });
});
