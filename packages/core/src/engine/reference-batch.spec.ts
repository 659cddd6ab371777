import { convertRawBatch } from "./batch-conversion";
import { concatRawBatches, cutRawBatch, decodeEvents, encodeEvents } from "./raw-batch";
import { assertHoldsEvents, describeRef, referenceBatch } from "./reference-batch";
import { timedEvents } from "./test-support/codec-samples";

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
    const held = encodeEvents(timedEvents(1), 2);
    expect(() => decodeEvents(ref)).toThrow(`Core cannot read the events of ${bug}`);
    expect(() => cutRawBatch(ref, { maxEvents: 1, maxBytes: 10 })).toThrow(`Core cannot cut ${bug}`);
    expect(() => concatRawBatches(held, ref)).toThrow(`Core cannot merge ${bug}`);
    expect(() => convertRawBatch(ref, 1)).toThrow(`Core cannot convert ${bug}`);
    // In its own major it needs no conversion, and comes back as it is.
    expect(convertRawBatch(ref, 2).batch).toBe(ref);
  });

  it("is told apart from a batch Core holds by assertHoldsEvents, which names the reference and the purpose", () => {
    expect(() => assertHoldsEvents(encodeEvents(timedEvents(2), 2), "dead-letter")).not.toThrow();
    expect(() => assertHoldsEvents(encodeEvents([]), "dead-letter")).not.toThrow();
    expect(() => assertHoldsEvents(ref, "dead-letter")).toThrow(`Core cannot dead-letter ${bug}`);
    expect(describeRef({ stream: "up", handle: 2n ** 64n - 1n })).toBe(
      "stream up handle 18446744073709551615",
    );
  });
});
