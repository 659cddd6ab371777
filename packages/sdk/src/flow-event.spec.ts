import {
  createEvent,
  eventJson,
  MAX_RFC3339_SECONDS,
  MIN_RFC3339_SECONDS,
  nowTimestamp,
  timestampFromDate,
  timestampFromNanos,
  timestampFromRfc3339,
  timestampToNanos,
  timestampToRfc3339,
} from "./flow-event";
import { Event } from "./gen/event/v1/event";

describe("time helpers", () => {
  it("writes RFC 3339 with all nine fractional digits and reads every digit back", () => {
    const timestamp = { seconds: 1_700_000_000n, nanos: 123_456_789 };
    expect(timestampToRfc3339(timestamp)).toBe("2023-11-14T22:13:20.123456789Z");
    expect(timestampFromRfc3339("2023-11-14T22:13:20.123456789Z")).toEqual(timestamp);
    expect(timestampFromRfc3339("2023-11-14T22:13:20.1Z")).toEqual({
      seconds: 1_700_000_000n,
      nanos: 100_000_000,
    });
    expect(timestampFromRfc3339("2023-11-14T22:13:20Z")).toEqual({ seconds: 1_700_000_000n, nanos: 0 });
  });

  it("applies offsets and accepts the lower-case and space forms RFC 3339 allows", () => {
    expect(timestampFromRfc3339("2023-11-15T00:13:20.5+02:00")).toEqual({
      seconds: 1_700_000_000n,
      nanos: 500_000_000,
    });
    expect(timestampFromRfc3339("2023-11-14t22:13:20z")).toEqual({ seconds: 1_700_000_000n, nanos: 0 });
    expect(timestampFromRfc3339("2023-11-14 22:13:20Z")).toEqual({ seconds: 1_700_000_000n, nanos: 0 });
  });

  it("handles times before the epoch (negative seconds, non-negative nanos)", () => {
    const timestamp = { seconds: -1n, nanos: 999_999_999 };
    expect(timestampToRfc3339(timestamp)).toBe("1969-12-31T23:59:59.999999999Z");
    expect(timestampFromRfc3339("1969-12-31T23:59:59.999999999Z")).toEqual(timestamp);
    expect(timestampToNanos(timestamp)).toBe(-1n);
    expect(timestampFromNanos(-1n)).toEqual(timestamp);
    expect(timestampFromNanos(-1_000_000_000n)).toEqual({ seconds: -1n, nanos: 0 });
    expect(timestampFromDate(new Date(-1))).toEqual({ seconds: -1n, nanos: 999_000_000 });
  });

  it("covers year 0001 and year 9999, and refuses what RFC 3339 cannot write", () => {
    const first = { seconds: MIN_RFC3339_SECONDS, nanos: 0 };
    const last = { seconds: MAX_RFC3339_SECONDS, nanos: 999_999_999 };
    expect(timestampToRfc3339(first)).toBe("0001-01-01T00:00:00.000000000Z");
    expect(timestampToRfc3339(last)).toBe("9999-12-31T23:59:59.999999999Z");
    expect(timestampFromRfc3339("0001-01-01T00:00:00Z")).toEqual(first);
    expect(timestampFromRfc3339("9999-12-31T23:59:59.999999999Z")).toEqual(last);
    expect(() => timestampToRfc3339({ seconds: MIN_RFC3339_SECONDS - 1n, nanos: 0 })).toThrow(RangeError);
    expect(() => timestampToRfc3339({ seconds: MAX_RFC3339_SECONDS + 1n, nanos: 0 })).toThrow(RangeError);
    expect(() => timestampToRfc3339({ seconds: 0n, nanos: 1_000_000_000 })).toThrow(/nanos/);
  });

  it("keeps 2^60 nanoseconds exact, which a JavaScript number cannot", () => {
    const nanos = 2n ** 60n;
    expect(Number(nanos) === Number(nanos + 1n)).toBe(true);
    const timestamp = timestampFromNanos(nanos + 1n);
    expect(timestamp).toEqual({ seconds: 1_152_921_504n, nanos: 606_846_977 });
    expect(timestampToNanos(timestamp)).toBe(nanos + 1n);
    expect(timestampToRfc3339(timestamp)).toBe("2006-07-14T23:58:24.606846977Z");
    expect(timestampToNanos(timestampFromRfc3339("2006-07-14T23:58:24.606846977Z"))).toBe(nanos + 1n);
    // And through the wire codec (int64 as bigint).
    const decoded = Event.decode(Event.encode(Event.fromPartial({ id: "t", time: timestamp })).finish());
    expect(decoded.time).toMatchObject(timestamp);
  });

  it("rejects text that is not an RFC 3339 time, or not a real date", () => {
    for (const text of [
      "2023-11-14",
      "2023-11-14T22:13Z",
      "2023-11-14T22:13:20",
      "2023-11-14T22:13:20.1234567891Z",
      "2023-02-30T00:00:00Z",
    ]) {
      expect(() => timestampFromRfc3339(text)).toThrow(RangeError);
    }
  });

  it("converts a Date and reads the current time with nanosecond resolution", () => {
    expect(timestampFromDate(new Date("2023-11-14T22:13:20.123Z"))).toEqual({
      seconds: 1_700_000_000n,
      nanos: 123_000_000,
    });
    const before = BigInt(Date.now() - 1) * 1_000_000n;
    const now = timestampToNanos(nowTimestamp());
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(BigInt(Date.now() + 1000) * 1_000_000n);
  });
});

describe("createEvent", () => {
  it("fills every field the codecs expect, writing JSON data as application/json", () => {
    const event = createEvent({ id: "1", source: "/s", type: "t", time: new Date(0), data: { a: 1 } });
    expect(event).toMatchObject({
      id: "1",
      source: "/s",
      specversion: "1.0",
      type: "t",
      subject: "",
      time: { seconds: 0n, nanos: 0 },
      datacontenttype: "application/json",
      dataschema: "",
      extensions: {},
      data: Buffer.from('{"a":1}'),
    });
    expect(eventJson(event)).toEqual({ a: 1 });
    expect(Event.decode(Event.encode(event).finish())).toEqual(event);
  });

  it("sets every field of the generated Event, including those a newer minor of the contract adds", () => {
    const event = createEvent({
      id: "1",
      source: "/s",
      type: "t",
      extensions: { tenant: { value: { $case: "stringValue", value: "acme" } } },
    });
    expect(Object.keys(event).sort()).toEqual(Object.keys(Event.create()).sort());
    expect(event).toEqual(
      Event.fromPartial({
        id: "1",
        source: "/s",
        specversion: "1.0",
        type: "t",
        extensions: { tenant: { value: { $case: "stringValue", value: "acme" } } },
      }),
    );
  });

  it("keeps bytes and strings as they are and leaves their content type to the caller", () => {
    expect(createEvent({ id: "1", source: "/s", type: "t", data: "plain" })).toMatchObject({
      data: Buffer.from("plain"),
      datacontenttype: "",
    });
    expect(createEvent({ id: "1", source: "/s", type: "t", data: new Uint8Array([1, 2]) }).data).toEqual(
      Buffer.from([1, 2]),
    );
    expect(eventJson(createEvent({ id: "1", source: "/s", type: "t" }))).toBeUndefined();
  });
});
