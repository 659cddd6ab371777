import { createEvent } from "@flow/sdk";
import { CloudEvent, CloudEventBatch } from "../gen/event/v2/event";
import { firstEventTime } from "./first-event-time";
import { encodeEvents, rawBatch } from "./raw-batch";

describe("firstEventTime", () => {
  it("gives a v1 batch's first event time", () => {
    const timed = createEvent({
      id: "t",
      source: "s",
      type: "t",
      time: { seconds: 1_700_000_000n, nanos: 9 },
    });
    expect(firstEventTime(encodeEvents([timed]))).toMatchObject({ seconds: 1_700_000_000n, nanos: 9 });
    expect(firstEventTime(encodeEvents([]))).toBeUndefined();
  });

  it("gives a v2 batch's first event time, as a ce_timestamp or an RFC 3339 ce_string", () => {
    const timed = createEvent({
      id: "t",
      source: "s",
      type: "t",
      time: { seconds: 1_800_000_000n, nanos: 5 },
    });
    expect(firstEventTime(encodeEvents([timed], 2))).toMatchObject({ seconds: 1_800_000_000n, nanos: 5 });
    const text = CloudEvent.create({
      id: "x",
      source: "s",
      specVersion: "1.0",
      type: "t",
      attributes: {
        other: { attr: { $case: "ceString", value: "nope" } },
        time: { attr: { $case: "ceString", value: "2027-01-15T10:00:00.000000123Z" } },
      },
      data: { $case: "textData", value: "hello" },
    });
    const batch = rawBatch(CloudEventBatch.encode({ events: [text] }).finish(), 2);
    expect(firstEventTime(batch)).toMatchObject({ seconds: 1_800_007_200n, nanos: 123 });
    const untimed = CloudEvent.create({ id: "u", source: "s", specVersion: "1.0", type: "t" });
    expect(
      firstEventTime(rawBatch(CloudEventBatch.encode({ events: [untimed] }).finish(), 2)),
    ).toBeUndefined();
  });
});
