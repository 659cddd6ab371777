import { toCloudEvent } from "./event-conversion";
import { CloudEventBatch } from "./gen/event/v2/event";
import { IngestRequest } from "./gen/processor_service/v2/processor";
import { cloudEventCount, peerBatchOfBytes, peerBatchOfEvents, readPeerBatch } from "./peer-batch-frame";
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

  it("counts a CloudEventBatch's events from their fields", () => {
    for (const count of [0, 1, 40]) {
      const batch = CloudEventBatch.encode({ events: testEvents(1, count).map(toCloudEvent) }).finish();
      expect(cloudEventCount(batch)).toBe(count);
    }
  });
});
