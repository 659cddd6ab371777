import { createEvent } from "@flow/sdk";
import { type Delivery, takeMerged } from "./delivery";
import { decodeEvents, encodeEvents } from "./raw-batch";
import { referenceBatch } from "./reference-batch";

const delivery = (id: string, extra: Partial<Delivery> = {}, major: 1 | 2 = 1): Delivery => ({
  origins: [{ source: "src", sequence: BigInt(id.charCodeAt(0)) }],
  batch: encodeEvents([createEvent({ id, source: "urn:t", type: "t", data: Buffer.alloc(100) })], major),
  attempts: 0,
  sentAt: 0,
  ...extra,
});
const ids = (taken: Delivery): string[] =>
  taken.batch.ref ? [`ref ${taken.batch.ref.handle}`] : decodeEvents(taken.batch).map((event) => event.id);
const byRef = (handle: number): Delivery => ({
  origins: [{ source: "src", sequence: BigInt(handle) }],
  batch: referenceBatch({ stream: "s", handle: BigInt(handle) }, 1, 100),
  attempts: 0,
  sentAt: 0,
});
const roomy = { maxEvents: 100, maxBytes: Number.POSITIVE_INFINITY };

describe("takeMerged (batching while busy)", () => {
  it("merges the fresh deliveries waiting behind the oldest, keeping every origin", () => {
    const waiting = [delivery("a"), delivery("b"), delivery("c")];
    const taken = takeMerged(waiting, roomy);
    expect(ids(taken)).toEqual(["a", "b", "c"]);
    expect(taken.origins.map((origin) => origin.sequence)).toEqual([97n, 98n, 99n]);
    expect(waiting).toEqual([]);
  });

  it("stops at the stage's limit, and leaves the rest waiting in order", () => {
    const waiting = [delivery("a"), delivery("b"), delivery("c")];
    expect(ids(takeMerged(waiting, { maxEvents: 2, maxBytes: Number.POSITIVE_INFINITY }))).toEqual([
      "a",
      "b",
    ]);
    expect(waiting.map(ids)).toEqual([["c"]]);
  });

  it("never merges a delivery sent or retried before, nor one of another event major", () => {
    for (const odd of [delivery("b", { sent: true }), delivery("b", { attempts: 1 }), delivery("b", {}, 2)]) {
      const waiting = [delivery("a"), odd];
      expect(ids(takeMerged(waiting, roomy))).toEqual(["a"]);
      expect(waiting).toEqual([odd]);
    }
  });

  it("never merges a batch known only by reference, with another or with one holding events", () => {
    const waiting = [byRef(1), byRef(2), delivery("a", {}, 2), byRef(3)];
    expect([1, 2, 3, 4].map(() => ids(takeMerged(waiting, roomy)))).toEqual([
      ["ref 1"],
      ["ref 2"],
      ["a"],
      ["ref 3"],
    ]);
  });
});
