import { createEvent } from "@flow/sdk";
import { toCloudEvent } from "@flow/sdk/internal";
import { CloudEvent, CloudEventBatch } from "../gen/event/v2/event";
import type { Delivery, Origin } from "./delivery";
import type { DeliveryPolicy } from "./delivery-policy";
import { decodeEvents, encodeEvents, type RawBatch, rawBatch } from "./raw-batch";
import { referenceBatch } from "./reference-batch";
import { Router } from "./router";
import { StageRecord } from "./stage-record";
import { batchOf, planFrom } from "./test-support/fake-link-stream";

/** Records what each stage's link is sent, as event ids (and the batches themselves in `batches`). */
function fakeLink(sent: string[][], major?: number, batches: RawBatch[] = []) {
  return {
    contract: major === undefined ? undefined : { name: "consumer_service", major, version: `${major}.0.0` },
    send: (_origins: Origin[], batch: RawBatch) => {
      batches.push(batch);
      sent.push(batch.ref ? [`ref ${batch.ref.handle}`] : decodeEvents(batch).map((e) => e.id));
    },
  };
}

function routed(
  maxSizes: { a: number; b: number },
  maxBytes = 1_000_000,
  majors: { a?: number; b?: number } = {},
) {
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
  const batchesTo = { a: [] as RawBatch[], b: [] as RawBatch[] };
  a.link = fakeLink(sentTo.a, majors.a, batchesTo.a) as unknown as StageRecord["link"];
  b.link = fakeLink(sentTo.b, majors.b, batchesTo.b) as unknown as StageRecord["link"];
  const splits: number[] = [];
  const closed: Origin[] = [];
  const oversized: { to: string; ids: string[]; reason: string }[] = [];
  const policy = { split: (_origins, deliveries) => splits.push(deliveries) } as Pick<
    DeliveryPolicy,
    "split"
  >;
  const router = new Router(policy as DeliveryPolicy, {
    closed: (origin) => closed.push(origin),
    undeliverable: (to: StageRecord, delivery: Delivery, reason: string) =>
      oversized.push({ to: to.id, ids: decodeEvents(delivery.batch).map((e) => e.id), reason }),
  });
  return { router, src, a, b, sentTo, batchesTo, splits, closed, oversized };
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

describe("Router between contract majors", () => {
  /** An event v2 that v1 cannot carry: its `subject` is an integer (v1's is a string). */
  const unconvertible = CloudEvent.create({
    id: "odd",
    source: "test",
    specVersion: "1.0",
    type: "t",
    attributes: { subject: { attr: { $case: "ceInteger", value: 7 } } },
  });

  it("forwards a batch to a stage of its own major as it is: the same bytes, not a copy", () => {
    const { router, src, batchesTo } = routed({ a: 100, b: 100 }, 1_000_000, { a: 1, b: 1 });
    const batch = batchOf(3);
    router.deliver(origins, src, batch);
    expect(batchesTo.a[0]).toBe(batch);
    expect(batchesTo.b[0]).toBe(batch);
    const v2 = batchOf(3, "e", 1, 2);
    const both2 = routed({ a: 100, b: 100 }, 1_000_000, { a: 2, b: 2 });
    both2.router.deliver(origins, both2.src, v2);
    expect(both2.batchesTo.a[0]?.bytes).toBe(v2.bytes);
    expect(both2.batchesTo.b[0]?.bytes).toBe(v2.bytes);
  });

  it("converts a v1 source's batch once for its v2 consumers, and leaves the v1 one's bytes alone", () => {
    const { router, src, sentTo, batchesTo, splits } = routed({ a: 2, b: 100 }, 1_000_000, { a: 2, b: 1 });
    const batch = batchOf(3);
    router.deliver(origins, src, batch);
    expect(sentTo.a).toEqual([["e-1", "e-2"], ["e-3"]]);
    expect(batchesTo.a.map((part) => part.major)).toEqual([2, 2]);
    // What the v2 stage gets is the CloudEvents Protobuf Format of the same events.
    expect(CloudEventBatch.decode(batchesTo.a[0]?.bytes as Uint8Array).events.map((e) => e.id)).toEqual([
      "e-1",
      "e-2",
    ]);
    expect(batchesTo.b).toEqual([batch]);
    expect(splits).toEqual([3]);

    const twice = routed({ a: 100, b: 100 }, 1_000_000, { a: 2, b: 2 });
    twice.router.deliver(origins, twice.src, batch);
    // Converted once for both v2 stages.
    expect(twice.batchesTo.a[0]).toBe(twice.batchesTo.b[0]);
  });

  it("converts a v2 batch for a v1 stage, dead-lettering there the events v1 cannot carry, with the reason", () => {
    const { router, src, sentTo, batchesTo, splits, oversized } = routed({ a: 100, b: 100 }, 1_000_000, {
      a: 1,
      b: 2,
    });
    const fine = toCloudEvent(createEvent({ id: "fine", source: "test", type: "t", data: { n: 1 } }));
    const batch = rawBatch(
      CloudEventBatch.encode({ events: [fine as CloudEvent, unconvertible] }).finish(),
      2,
    );
    router.deliver(origins, src, batch);
    expect(sentTo.a).toEqual([["fine"]]);
    expect(batchesTo.a[0]?.major).toBe(1);
    expect(sentTo.b).toEqual([["fine", "odd"]]);
    expect(batchesTo.b[0]).toBe(batch);
    expect(oversized).toEqual([
      {
        to: "a",
        ids: ["odd"],
        reason: expect.stringMatching(
          /^event v2 cannot convert to event v1, which consumer "a" speaks: .*subject/,
        ),
      },
    ]);
    // a: one part and one dead letter; b: one part.
    expect(splits).toEqual([3]);
  });

  it("sends nothing to a v1 stage when every event was refused, only their dead letters", () => {
    const { router, src, sentTo, splits, oversized } = routed({ a: 100, b: 100 }, 1_000_000, { a: 1, b: 1 });
    router.deliver(origins, src, rawBatch(CloudEventBatch.encode({ events: [unconvertible] }).finish(), 2));
    expect(sentTo).toEqual({ a: [], b: [] });
    expect(oversized.map((letter) => letter.to)).toEqual(["a", "b"]);
    expect(splits).toEqual([2]);
  });

  it("fans a batch known only by reference out as that same reference to every output, never cut nor converted", () => {
    const { router, src, a, b, batchesTo, sentTo, splits, oversized } = routed({ a: 100, b: 2 }, 10, {
      a: 2,
      b: 2,
    });
    a.directPathCapable = true;
    b.directPathCapable = true;
    const ref = referenceBatch({ stream: "src-1", handle: 4n }, 5, 5000);
    router.deliver(origins, src, ref);
    expect(batchesTo.a).toEqual([ref]);
    expect(batchesTo.b[0]).toBe(ref);
    expect(sentTo.b).toEqual([["ref 4"]]);
    expect(splits).toEqual([2]);
    expect([a.counters.eventsIn, b.counters.eventsIn]).toEqual([5, 5]);
    expect(oversized).toEqual([]);
  });

  it("refuses, as the bug in Core it would be, to send a reference to a stage that cannot take it", () => {
    const ref = referenceBatch({ stream: "src-1", handle: 4n }, 5, 5000);
    const otherMajor = routed({ a: 100, b: 100 }, 1_000_000, { a: 2, b: 1 });
    otherMajor.a.directPathCapable = true;
    otherMajor.b.directPathCapable = true;
    expect(() => otherMajor.router.deliver(origins, otherMajor.src, ref)).toThrow(
      'source "src" sent a batch by reference (stream src-1 handle 4) to consumer "b", which speaks event v1, not v2: the edge is not direct, so Core should not have named it a peer; this is a bug in Flow Core',
    );
    const notCapable = routed({ a: 100, b: 100 }, 1_000_000, { a: 2, b: 2 });
    notCapable.a.directPathCapable = true;
    expect(() => notCapable.router.deliver(origins, notCapable.src, ref)).toThrow(
      /to consumer "b", which does not take batches by reference/,
    );
    for (const { sentTo, splits } of [otherMajor, notCapable]) {
      expect([sentTo.a, sentTo.b, splits]).toEqual([[], [], []]);
    }
  });
});
