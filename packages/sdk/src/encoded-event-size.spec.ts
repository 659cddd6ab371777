import { encodedEventBytes } from "./encoded-event-size";
import { EventBatch } from "./gen/event/v1/event";
import { testEvent } from "./test-support/test-events";

describe("encodedEventBytes", () => {
  it("sums to the encoded size of the batch, for small and large events", () => {
    const small = testEvent(1);
    const large = { ...testEvent(2), data: Buffer.alloc(300_000, "x") };
    const batch = EventBatch.encode({ events: [small, large, small] }).finish();
    expect(encodedEventBytes(small) * 2 + encodedEventBytes(large)).toBe(batch.length);
  });
});
