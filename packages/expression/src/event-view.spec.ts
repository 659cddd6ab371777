import { createEvent, timestampFromRfc3339 } from "@flow/sdk";
import { eventView, PayloadNotJsonError } from "./event-view";

describe("eventView", () => {
  it("shows the attributes as JSON and leaves absent ones out", () => {
    const view = eventView(
      createEvent({
        id: "1",
        source: "/s",
        type: "t",
        time: timestampFromRfc3339("2026-01-02T03:04:05.000000007Z"),
        data: { a: 1 },
        extensions: {
          flag: { value: { $case: "booleanValue", value: true } },
          count: { value: { $case: "integerValue", value: 7 } },
          blob: { value: { $case: "binaryValue", value: Buffer.from([1, 2]) } },
          at: { value: { $case: "timestampValue", value: { seconds: 0n, nanos: 0 } } },
        },
      }),
    );
    expect(JSON.parse(JSON.stringify(view))).toEqual({
      id: "1",
      source: "/s",
      specversion: "1.0",
      type: "t",
      time: "2026-01-02T03:04:05.000000007Z",
      datacontenttype: "application/json",
      extensions: { flag: true, count: 7, blob: "AQI=", at: "1970-01-01T00:00:00.000000000Z" },
      data: { a: 1 },
    });
  });

  it("parses data only when it is read, and says why a payload is not JSON", () => {
    const view = eventView(
      createEvent({
        id: "1",
        source: "/s",
        type: "t",
        datacontenttype: "application/json",
        data: Buffer.from("{"),
      }),
    );
    expect(view.type).toBe("t");
    expect(() => view.data).toThrow(PayloadNotJsonError);
    expect(eventView(createEvent({ id: "2", source: "/s", type: "t" })).data).toBeUndefined();
    expect(
      eventView(
        createEvent({
          id: "3",
          source: "/s",
          type: "t",
          datacontenttype: "application/cloudevents+json; charset=utf-8",
          data: Buffer.from("[1]"),
        }),
      ).data,
    ).toEqual([1]);
  });
});
