import { bundleFrame } from "./bundle-frames";
import { toCloudEvent } from "./event-conversion";
import { CloudEventBatch } from "./gen/event/v2/event";
import { IngestRequest } from "./gen/processor_service/v2/processor";
import {
  cloudEventCount,
  peerBatchOfBytes,
  peerBatchOfEvents,
  readPeerBatch,
  readPeerBatches,
} from "./peer-batch-frame";
import { testEvents } from "./test-support/test-events";

const ref = { stream: "3f1c0e2a-0000-4000-8000-000000000001", handle: 7n };

/** The IngestRequest the generated code writes for `events` under `ref`. */
function generated(events: ReturnType<typeof testEvents>): Buffer {
  return Buffer.from(IngestRequest.encode({ ref, batch: { events: events.map(toCloudEvent) } }).finish());
}

describe("IngestRequest frames", () => {
  it("encodes events once into the very frame the generated code writes, the batch a view of it", () => {
    const events = testEvents(1, 5);
    const { frame, batch } = peerBatchOfEvents(ref, events);
    expect(frame.equals(generated(events))).toBe(true);
    expect(batch.buffer).toBe(frame.buffer);
    expect(
      Buffer.from(batch).equals(CloudEventBatch.encode({ events: events.map(toCloudEvent) }).finish()),
    ).toBe(true);
  });

  it("frames CloudEventBatch bytes as they are", () => {
    const events = testEvents(1, 3);
    const batch = CloudEventBatch.encode({ events: events.map(toCloudEvent) }).finish();
    expect(peerBatchOfBytes(ref, batch).equals(generated(events))).toBe(true);
  });

  it("reads the reference and keeps the batch as a view of the frame, decoding no event", () => {
    const frame = generated(testEvents(1, 2));
    const read = readPeerBatch(frame);
    expect(read.ref).toMatchObject(ref);
    expect(read.batch.buffer).toBe(frame.buffer);
    expect(CloudEventBatch.decode(read.batch).events.map((event) => event.id)).toEqual([
      "event-1",
      "event-2",
    ]);
    expect(readPeerBatch(Buffer.alloc(0))).toEqual({ ref: undefined, batch: new Uint8Array(0) });
  });

  it("reads a bundle (v2.3) as the IngestRequests it carries, in order, and a lone request as itself", () => {
    const frames = [testEvents(1, 2), testEvents(3, 1)].map(
      (events, index) => peerBatchOfEvents({ ...ref, handle: BigInt(index + 1) }, events).frame,
    );
    const bundle = bundleFrame(frames);
    // The bundle is what the generated code writes for the same requests in `bundle`.
    const requests = frames.map((frame) => IngestRequest.decode(frame));
    expect(bundle.equals(Buffer.from(IngestRequest.encode({ bundle: { requests } }).finish()))).toBe(true);
    const read = readPeerBatches(bundle);
    expect(read.map((batch) => batch.ref?.handle)).toEqual([1n, 2n]);
    expect(read.map((batch) => CloudEventBatch.decode(batch.batch).events.map((event) => event.id))).toEqual([
      ["event-1", "event-2"],
      ["event-3"],
    ]);
    expect(readPeerBatches(frames[0] as Buffer).map((batch) => batch.ref?.handle)).toEqual([1n]);
    expect(() => readPeerBatches(bundleFrame([bundle]))).toThrow(/a bundle carries a bundle/);
  });

  it("counts a CloudEventBatch's events from their fields", () => {
    for (const count of [0, 1, 40]) {
      const batch = CloudEventBatch.encode({ events: testEvents(1, count).map(toCloudEvent) }).finish();
      expect(cloudEventCount(batch)).toBe(count);
    }
  });
});
