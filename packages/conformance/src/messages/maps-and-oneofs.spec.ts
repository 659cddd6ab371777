import { BinaryWriter } from "@bufbuild/protobuf/wire";
import { WriteResponse } from "../gen/consumer_service/v1/consumer";
import { AttributeValue, Event, Event_ExtensionsEntry } from "../gen/event/v1/event";
import { ReadRequest } from "../gen/source_service/v1/source";
import { hex, withoutUnknownFields } from "../test-support/message-codec";
import { everyAttributeValue } from "../test-support/samples/event-samples";
import { concatBytes, lengthDelimited } from "../test-support/wire-bytes";

const entry = (key: string | undefined, value: AttributeValue | undefined): Uint8Array => {
  const writer = new BinaryWriter();
  if (key !== undefined) writer.uint32(10).string(key);
  if (value !== undefined) writer.uint32(18).bytes(AttributeValue.encode(value).finish());
  return lengthDelimited(9, writer.finish());
};
const text = (value: string) => AttributeValue.fromPartial({ value: { $case: "stringValue", value } });

describe("maps (Event.extensions)", () => {
  it("carry a value of every CloudEvents type, under any string key", () => {
    const extensions = Object.fromEntries(everyAttributeValue.map((value, index) => [`ext${index}`, value]));
    extensions.ünïcødé = text("keys are UTF-8");
    extensions[""] = text("so is the empty key");
    const event = Event.fromPartial({ id: "m", extensions });
    const decoded = Event.decode(Event.encode(event).finish());
    expect(withoutUnknownFields(decoded.extensions)).toEqual(withoutUnknownFields(extensions));
    expect(Object.keys(decoded.extensions)).toEqual(Object.keys(extensions));
    expect(
      withoutUnknownFields(Event.fromJSON(JSON.parse(JSON.stringify(Event.toJSON(event)))).extensions),
    ).toEqual(withoutUnknownFields(extensions));
  });

  it("keep the last value when a key repeats on the wire", () => {
    const bytes = concatBytes(entry("k", text("first")), entry("other", text("x")), entry("k", text("last")));
    expect(withoutUnknownFields(Event.decode(bytes).extensions)).toEqual(
      withoutUnknownFields({ k: text("last"), other: text("x") }),
    );
  });

  it("read an entry without a key as the empty key", () => {
    expect(Object.keys(Event.decode(entry(undefined, text("v"))).extensions)).toEqual([""]);
  });

  it("drop an entry without a value (ts-proto; the protobuf spec would keep an empty AttributeValue)", () => {
    // Known deviation, harmless here: an extension attribute without a value has no
    // CloudEvents meaning. Pinned so a generator change that alters it is noticed.
    expect(Event.decode(entry("k", undefined)).extensions).toEqual({});
    expect(withoutUnknownFields(Event_ExtensionsEntry.decode(entry("k", undefined).subarray(2)))).toEqual({
      key: "k",
      value: undefined,
    });
  });
});

describe("oneofs", () => {
  it.each([
    ["booleanValue", false, "0800"],
    ["integerValue", 0, "1000"],
    ["stringValue", "", "1a00"],
    ["binaryValue", Buffer.alloc(0), "2200"],
    ["timestampValue", { seconds: 0n, nanos: 0 }, "3a00"],
  ] as const)("keep the %s case even when its value is the default (%p)", (kase, value, bytes) => {
    const message = AttributeValue.fromPartial({ value: { $case: kase, value } as never });
    expect(hex(AttributeValue.encode(message).finish())).toBe(bytes);
    const decoded = AttributeValue.decode(Buffer.from(bytes, "hex"));
    expect(decoded.value?.$case).toBe(kase);
    expect(withoutUnknownFields(decoded.value?.value)).toEqual(value);
    expect(AttributeValue.fromJSON(AttributeValue.toJSON(message)).value?.$case).toBe(kase);
  });

  it("take the last member set on the wire", () => {
    const stringThenInteger = Buffer.from("1a01611005", "hex");
    expect(withoutUnknownFields(AttributeValue.decode(stringThenInteger))).toEqual({
      value: { $case: "integerValue", value: 5 },
    });
    const startThenCredit = concatBytes(
      ReadRequest.encode(
        ReadRequest.fromPartial({ request: { $case: "start", value: { stageId: "s" } } }),
      ).finish(),
      ReadRequest.encode(
        ReadRequest.fromPartial({ request: { $case: "credit", value: { batches: 2 } } }),
      ).finish(),
    );
    expect(withoutUnknownFields(ReadRequest.decode(startThenCredit))).toEqual({
      request: { $case: "credit", value: { batches: 2 } },
    });
  });

  it("read an unset oneof as undefined and write nothing for it", () => {
    expect(WriteResponse.decode(new Uint8Array(0)).response).toBeUndefined();
    expect(WriteResponse.encode(WriteResponse.fromPartial({})).finish()).toHaveLength(0);
  });
});
