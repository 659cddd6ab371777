import { Event, EventBatch } from "../gen/event/v1/event";
import { syntheticBatch, syntheticPayload } from "./synthetic-events";

describe("syntheticBatch", () => {
  it("builds complete generated Events (every field, whatever minor of event is vendored)", () => {
    const batch = syntheticBatch(7, 2, syntheticPayload(8), 1_700_000_000_123);
    expect(batch.events.map((event) => event.id)).toEqual(["evt-7", "evt-8"]);
    for (const event of batch.events) {
      expect(Object.keys(event).sort()).toEqual(Object.keys(Event.create()).sort());
      expect(event.time).toMatchObject({ seconds: 1_700_000_000n, nanos: 123_000_000 });
    }
    expect(EventBatch.decode(EventBatch.encode(batch).finish())).toEqual(batch);
  });
});
