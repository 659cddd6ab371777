import { create, fromBinary, toBinary, toJson } from "@bufbuild/protobuf";
import { TimestampSchema } from "@bufbuild/protobuf/wkt";
import { timestampFromRfc3339, timestampToRfc3339 } from "@flow/sdk";
import { AttributeValue, Event, Timestamp } from "../gen/event/v1/event";
import { withoutUnknownFields } from "../test-support/message-codec";

/** Seconds and nanos at the edges of what a CloudEvents `time` can be. */
const EDGES: readonly [string, bigint, number][] = [
  ["the epoch", 0n, 0],
  ["the last nanosecond before the epoch", -1n, 999_999_999],
  ["0001-01-01T00:00:00Z, the first RFC 3339 instant", -62_135_596_800n, 0],
  ["9999-12-31T23:59:59.999999999Z, the last", 253_402_300_799n, 999_999_999],
  ["2^60 nanoseconds after the epoch", 1_152_921_504n, 606_846_976],
  ["a leap day", 951_782_400n, 1],
];

describe("event.v1 Timestamp", () => {
  it.each(EDGES)(
    "keeps %s exactly in an Event's time and in a timestamp attribute",
    (_what, seconds, nanos) => {
      const time = { seconds, nanos };
      const event = Event.fromPartial({
        id: "t",
        time,
        extensions: { at: { value: { $case: "timestampValue", value: time } } },
      });
      const decoded = Event.decode(Event.encode(event).finish());
      expect(withoutUnknownFields(decoded.time)).toEqual(time);
      expect(withoutUnknownFields(decoded.extensions.at)).toEqual(
        withoutUnknownFields(AttributeValue.fromPartial({ value: { $case: "timestampValue", value: time } })),
      );
      expect(
        withoutUnknownFields(Event.fromJSON(JSON.parse(JSON.stringify(Event.toJSON(event)))).time),
      ).toEqual(time);
    },
  );

  it.each(EDGES)("is wire-compatible with google.protobuf.Timestamp at %s", (_what, seconds, nanos) => {
    const ours = Timestamp.encode(Timestamp.fromPartial({ seconds, nanos })).finish();
    const google = fromBinary(TimestampSchema, ours);
    expect([google.seconds, google.nanos]).toEqual([seconds, nanos]);
    expect(Buffer.from(toBinary(TimestampSchema, create(TimestampSchema, { seconds, nanos })))).toEqual(
      Buffer.from(ours),
    );
  });

  it.each(EDGES)(
    "renders %s in RFC 3339 as protobuf-es renders a google.protobuf.Timestamp (the SDK's helpers)",
    (_what, seconds, nanos) => {
      // protobuf-es trims trailing zero groups of the fraction; the SDK always writes nine digits.
      const reference = toJson(TimestampSchema, create(TimestampSchema, { seconds, nanos })) as string;
      const ours = timestampToRfc3339({ seconds, nanos });
      expect(timestampFromRfc3339(reference)).toEqual({ seconds, nanos });
      expect(timestampFromRfc3339(ours)).toEqual({ seconds, nanos });
      expect(ours.slice(0, 19)).toBe(reference.slice(0, 19));
    },
  );

  it("writes a negative time as negative seconds with non-negative nanos", () => {
    expect(
      Buffer.from(
        Timestamp.encode(Timestamp.fromPartial({ seconds: -1n, nanos: 999_999_999 })).finish(),
      ).toString("hex"),
    ).toBe("08ffffffffffffffffff0110ff93ebdc03");
  });
});
