import type { Delivery } from "./delivery";
import { LinkDeliveries } from "./link-deliveries";
import { decodeEvents, type RawBatch } from "./raw-batch";
import { referenceBatch } from "./reference-batch";
import { batchOf } from "./test-support/fake-link-stream";

const roomy = { maxEvents: 100, maxBytes: 1_000_000 };

function delivery(batch: RawBatch, sentAt = 0): Delivery {
  return { origins: [{ source: "src", sequence: 1n }], batch, attempts: 0, sentAt };
}

/** The event ids of a delivery's batch; `ref <handle>` for one known by reference. */
const ids = (taken: Delivery | undefined) =>
  taken?.batch.ref
    ? [`ref ${taken.batch.ref.handle}`]
    : decodeEvents(taken?.batch as RawBatch).map((e) => e.id);

/** Sends every delivery there is room for, as the link does: [sequence, event ids] in order. */
function sendAll(deliveries: LinkDeliveries, room: number): [bigint, string[]][] {
  const sent: [bigint, string[]][] = [];
  for (let next = deliveries.nextToSend(room, roomy); next; next = deliveries.nextToSend(room, roomy)) {
    next.sent = true;
    sent.push([deliveries.markSent(next), ids(next)]);
  }
  return sent;
}

describe("LinkDeliveries", () => {
  it("numbers what goes out in order, keeps at most `room` in flight, and merges what waited behind", () => {
    const deliveries = new LinkDeliveries();
    // Each goes out as it comes while there is room (fresh ones waiting together would merge).
    const sent = ["a", "b", "c", "d"].flatMap((prefix) => {
      deliveries.enqueue(delivery(batchOf(1, prefix)));
      return sendAll(deliveries, 2);
    });
    expect(sent).toEqual([
      [1n, ["a-1"]],
      [2n, ["b-1"]],
    ]);
    expect([deliveries.inFlight, deliveries.held, deliveries.lastSent]).toEqual([2, 4, 2n]);
    expect(deliveries.nextToSend(2, roomy)).toBeUndefined();
    expect(ids(deliveries.take(1n))).toEqual(["a-1"]);
    // c and d waited behind the full stream: they go out as one batch.
    expect(sendAll(deliveries, 2)).toEqual([[3n, ["c-1", "d-1"]]]);
    expect(deliveries.unanswered()).toEqual([2n, 3n]);
  });

  it("hands out an unanswered delivery once, and nothing for a sequence never sent or not positive", () => {
    const deliveries = new LinkDeliveries();
    deliveries.enqueue(delivery(batchOf(1, "a")));
    sendAll(deliveries, 1);
    expect(deliveries.take(2n)).toBeUndefined();
    expect(deliveries.take(0n)).toBeUndefined();
    expect(deliveries.take(-1n)).toBeUndefined();
    expect(ids(deliveries.take(1n))).toEqual(["a-1"]);
    expect(deliveries.take(1n)).toBeUndefined();
    expect(deliveries.held).toBe(0);
  });

  it("puts the unanswered back ahead of the waiting ones, in the order they were sent", () => {
    const deliveries = new LinkDeliveries();
    for (const prefix of ["a", "b", "c"]) {
      deliveries.enqueue(delivery(batchOf(1, prefix)));
      sendAll(deliveries, 2);
    }
    deliveries.requeueUnanswered();
    expect([deliveries.inFlight, deliveries.held]).toEqual([0, 3]);
    // Sent before, a and b are sent again as they were, not merged; c follows.
    expect(sendAll(deliveries, 3)).toEqual([
      [3n, ["a-1"]],
      [4n, ["b-1"]],
      [5n, ["c-1"]],
    ]);
  });

  it("says when a delivery has been unanswered for longer than the limit", () => {
    const deliveries = new LinkDeliveries();
    deliveries.enqueue(delivery(batchOf(1), 1_000));
    sendAll(deliveries, 1);
    expect(deliveries.overdue(1_500, 500)).toBe(false);
    expect(deliveries.overdue(1_501, 500)).toBe(true);
  });

  it("knows whether it holds a batch known only by reference, unanswered or waiting", () => {
    const deliveries = new LinkDeliveries();
    expect(deliveries.holdsRefs).toBe(false);
    deliveries.enqueue(delivery(referenceBatch({ stream: "s", handle: 1n }, 2, 20)));
    expect(deliveries.holdsRefs).toBe(true);
    expect(sendAll(deliveries, 1)).toEqual([[1n, ["ref 1"]]]);
    expect(deliveries.holdsRefs).toBe(true);
    deliveries.take(1n);
    expect(deliveries.holdsRefs).toBe(false);
  });

  describe("a delivery waiting out a retry delay", () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    it("takes room on the stream, then goes ahead of the waiting ones; no answer can name it", () => {
      const deliveries = new LinkDeliveries();
      deliveries.enqueue(delivery(batchOf(1, "a")));
      sendAll(deliveries, 1);
      const failed = deliveries.take(1n) as Delivery;
      deliveries.enqueue(delivery(batchOf(1, "b")));
      const resent: number[] = [];
      deliveries.holdForRetry(failed, 100, () => resent.push(deliveries.held));
      expect([deliveries.inFlight, deliveries.held]).toEqual([1, 2]);
      expect(deliveries.nextToSend(1, roomy)).toBeUndefined();
      expect(deliveries.unanswered()).toEqual([]);
      expect(deliveries.take(-1n)).toBeUndefined();
      deliveries.requeueUnanswered();
      expect(deliveries.inFlight).toBe(1);
      jest.advanceTimersByTime(99);
      expect(resent).toEqual([]);
      jest.advanceTimersByTime(1);
      expect(resent).toEqual([2]);
      expect(sendAll(deliveries, 1)).toEqual([[2n, ["a-1"]]]);
    });

    it("is let go, with everything else, when the deliveries are cleared", () => {
      const deliveries = new LinkDeliveries();
      deliveries.enqueue(delivery(batchOf(1, "a")));
      sendAll(deliveries, 1);
      deliveries.enqueue(delivery(batchOf(1, "b")));
      const resent: string[] = [];
      deliveries.holdForRetry(deliveries.take(1n) as Delivery, 100, () => resent.push("a"));
      deliveries.clear();
      expect([deliveries.inFlight, deliveries.held, deliveries.holdsRefs]).toEqual([0, 0, false]);
      jest.advanceTimersByTime(1_000);
      expect(resent).toEqual([]);
      expect(deliveries.held).toBe(0);
    });
  });
});
