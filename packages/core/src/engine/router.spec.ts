import { createEvent } from "@flow/sdk";
import type { Delivery, Origin } from "./batch-link";
import type { DeliveryPolicy } from "./delivery-policy";
import { decodeEvents, encodeEvents, type RawBatch } from "./raw-batch";
import { Router } from "./router";
import { StageRecord } from "./stage-record";
import { batchOf, planFrom } from "./test-support/fake-link-stream";

/** Records what each stage's link is sent, as event ids. */
function fakeLink(sent: string[][]) {
  return { send: (_origins: Origin[], batch: RawBatch) => sent.push(decodeEvents(batch).map((e) => e.id)) };
}

function routed(maxSizes: { a: number; b: number }, maxBytes = 1_000_000) {
  const plan = planFrom(`
metadata: { name: t }
sources: [{ id: src, address: "127.0.0.1:1" }]
consumers:
  - { id: a, address: "127.0.0.1:2", inputs: [src], batch: { maxSize: ${maxSizes.a} } }
  - { id: b, address: "127.0.0.1:3", inputs: [src], batch: { maxSize: ${maxSizes.b}, maxBytes: ${maxBytes} } }
`);
  const records = new Map(plan.stages.map((stage) => [stage.id, new StageRecord(stage)]));
  const [src, a, b] = ["src", "a", "b"].map((id) => records.get(id) as StageRecord) as [
    StageRecord,
    StageRecord,
    StageRecord,
  ];
  src.outputs = [a, b];
  const sentTo = { a: [] as string[][], b: [] as string[][] };
  a.link = fakeLink(sentTo.a) as unknown as StageRecord["link"];
  b.link = fakeLink(sentTo.b) as unknown as StageRecord["link"];
  const splits: number[] = [];
  const closed: Origin[] = [];
  const oversized: { to: string; ids: string[]; reason: string }[] = [];
  const policy = { split: (_origins, deliveries) => splits.push(deliveries) } as Pick<
    DeliveryPolicy,
    "split"
  >;
  const router = new Router(policy as DeliveryPolicy, {
    closed: (origin) => closed.push(origin),
    oversized: (to: StageRecord, delivery: Delivery, reason: string) =>
      oversized.push({ to: to.id, ids: decodeEvents(delivery.batch).map((e) => e.id), reason }),
  });
  return { router, src, a, b, sentTo, splits, closed, oversized };
}

const origins: Origin[] = [{ source: "src", sequence: 1n }];

describe("Router", () => {
  it("fans a batch out to every output, cut to each one's batch.maxSize, one delivery per part", () => {
    const { router, src, sentTo, splits, a, b } = routed({ a: 100, b: 2 });
    router.deliver(origins, src, batchOf(5));
    expect(sentTo.a).toEqual([["e-1", "e-2", "e-3", "e-4", "e-5"]]);
    expect(sentTo.b).toEqual([["e-1", "e-2"], ["e-3", "e-4"], ["e-5"]]);
    expect(splits).toEqual([4]);
    expect(a.counters.eventsIn).toBe(5);
    expect(b.counters.eventsIn).toBe(5);
  });

  it("closes the origins of an empty batch (a processor filtered everything) and of a stage with no outputs", () => {
    const { router, src, a, closed, sentTo } = routed({ a: 10, b: 10 });
    router.deliver(origins, src, batchOf(0));
    router.deliver(origins, a, batchOf(3));
    expect(closed).toEqual([...origins, ...origins]);
    expect(sentTo.a).toEqual([]);
  });

  it("sets apart, for the stage whose byte limit it exceeds, an event no batch can carry; the rest go on", () => {
    const { router, src, sentTo, splits, oversized } = routed({ a: 100, b: 100 }, 1000);
    const event = (id: string, data: unknown) => createEvent({ id, source: "test", type: "t", data });
    const batch = encodeEvents([event("small-1", 1), event("big", "x".repeat(5000)), event("small-2", 2)]);
    router.deliver(origins, src, batch);
    expect(sentTo.a).toEqual([["small-1", "big", "small-2"]]);
    expect(sentTo.b).toEqual([["small-1"], ["small-2"]]);
    expect(oversized).toHaveLength(1);
    expect(oversized[0]?.to).toBe("b");
    expect(oversized[0]?.ids).toEqual(["big"]);
    expect(oversized[0]?.reason).toMatch(
      /^event too large: \d+ bytes encoded, and consumer "b" takes batches of at most 1000 bytes/,
    );
    // a: one part; b: two parts and the dead letter.
    expect(splits).toEqual([4]);
  });
});
