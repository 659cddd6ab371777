import { createEvent } from "@flow/sdk";
import { convertRawBatch } from "./batch-conversion";
import { decodeEvents, encodeEvents } from "./raw-batch";

describe("convertRawBatch", () => {
  const event = (id: string) =>
    createEvent({ id, source: "urn:test", type: "t", subject: "s", data: Buffer.alloc(300, "x") });
  const v1 = encodeEvents([event("a"), event("b"), event("c")]);
  const v2 = encodeEvents(decodeEvents(v1), 2);

  it("converts to another major, and stays the very same bytes for their own", () => {
    expect(convertRawBatch(v1, 1).batch).toBe(v1);
    expect(convertRawBatch(v2, 2).batch).toBe(v2);
    const there = convertRawBatch(v1, 2);
    expect(there.batch.bytes).toEqual(v2.bytes);
    expect(there.refused).toEqual([]);
    const back = convertRawBatch(there.batch, 1);
    expect(back.batch).toMatchObject({ count: 3, major: 1 });
    expect(decodeEvents(back.batch)).toEqual(decodeEvents(v1));
  });
});
