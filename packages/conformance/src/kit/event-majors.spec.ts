import { fromCloudEvent, toCloudEvent } from "@flow/sdk/internal";
import { Event } from "../gen/event/v1/event";
import { CloudEvent } from "../gen/event/v2/event";
import type { EventSpec } from "./conform-config";
import { ATTRIBUTES_OF_EVERY_TYPE, eventMajor, UNKNOWN_FIELD_BYTES } from "./event-majors";

const v1 = eventMajor(1);
const v2 = eventMajor(2);

const SPECS: EventSpec[] = [
  { type: "com.example.conform", source: "/flow/conform", data: { n: 1, text: "conform" } },
  { subject: "orders/7", datacontenttype: "application/json", dataText: "{not json" },
  { datacontenttype: "application/octet-stream", dataText: "raw" },
  { dataText: "no content type" },
  {},
];

/** The event without the kit's unknown field (which a conversion to event v1 cannot carry). */
const known = (event: CloudEvent): CloudEvent => ({ ...event, _unknownFields: {} });

describe("the kit's event v2 samples", () => {
  const samples = v2.sampleEvents(SPECS, "s") as CloudEvent[];

  it("carry an extension attribute of every type of the CloudEvents type system", () => {
    const types = new Set(Object.values(ATTRIBUTES_OF_EVERY_TYPE).map((value) => value.attr?.$case));
    expect([...types].sort()).toEqual(
      ["ceBoolean", "ceBytes", "ceInteger", "ceString", "ceTimestamp", "ceUri", "ceUriRef"].sort(),
    );
    for (const event of samples) expect(event.attributes).toMatchObject(ATTRIBUTES_OF_EVERY_TYPE);
  });

  it("are CloudEvents as the Protobuf Format writes them: attributes of their types, data in the kind of its media type", () => {
    for (const event of samples) expect(v2.cloudEventsProblem(event)).toBeUndefined();
    const [json, badJson, binary, untyped, empty] = samples;
    expect(json?.data).toEqual({ $case: "textData", value: '{"n":1,"text":"conform"}' });
    expect(json?.attributes.datacontenttype?.attr).toEqual({ $case: "ceString", value: "application/json" });
    expect(json?.attributes.time?.attr?.$case).toBe("ceTimestamp");
    expect(json?.attributes.dataschema?.attr?.$case).toBe("ceUri");
    expect(badJson?.data).toEqual({ $case: "textData", value: "{not json" });
    expect(badJson?.attributes.subject?.attr).toEqual({ $case: "ceString", value: "orders/7" });
    expect(binary?.data).toEqual({ $case: "binaryData", value: Buffer.from("raw") });
    expect(untyped?.data?.$case).toBe("binaryData");
    expect(empty?.data).toBeUndefined();
    expect(samples.map((event) => event.id)).toEqual(["s-1", "s-2", "s-3", "s-4", "s-5"]);
  });

  it("carry a field event v2 does not know", () => {
    for (const event of samples) {
      expect(v2.carriesUnknownField(event)).toBe(true);
      expect(Object.keys(CloudEvent.decode(v2.encode(event))._unknownFields ?? {})).toHaveLength(1);
    }
  });

  it("come through a faithful conversion to event v1 and back unchanged (the spec's rules, so a pass-through service can keep them)", () => {
    const kinds = v2.dataKindEvents(SPECS[0] as EventSpec, "k").map(({ event }) => event as CloudEvent);
    for (const event of [...samples, ...kinds].map(known))
      expect(v2.canonical(toCloudEvent(fromCloudEvent(event)))).toEqual(v2.canonical(event));
  });

  it("include one event of each data kind, proto_data a real message with its type URL as dataschema", () => {
    const kinds = v2.dataKindEvents(SPECS[0] as EventSpec, "k");
    expect(kinds.map(({ kind, event }) => [kind, (event as CloudEvent).data?.$case])).toEqual([
      ["text_data", "textData"],
      ["binary_data", "binaryData"],
      ["proto_data", "protoData"],
    ]);
    const proto = kinds[2]?.event as CloudEvent;
    expect(proto.data?.$case === "protoData" && proto.data.value.typeUrl).toBe(
      "type.googleapis.com/google.protobuf.Timestamp",
    );
    expect(proto.attributes.dataschema?.attr).toEqual({
      $case: "ceUri",
      value: "type.googleapis.com/google.protobuf.Timestamp",
    });
    for (const { event } of kinds) expect(v2.cloudEventsProblem(event)).toBeUndefined();
    expect(v1.dataKindEvents(SPECS[0] as EventSpec, "k")).toEqual([]);
  });
});

describe("comparing events", () => {
  const [sample] = v2.sampleEvents(SPECS, "c") as CloudEvent[];
  const event = sample as CloudEvent;

  it("an event v2 whose attributes come in another order is the same event", () => {
    const reversed = Object.fromEntries(Object.entries(event.attributes).reverse());
    const reordered = { ...event, attributes: reversed };
    expect(v2.encode(reordered)).not.toEqual(v2.encode(event));
    expect(v2.canonical(reordered)).toEqual(v2.canonical(event));
    expect(v2.differences(event, reordered)).toEqual([]);
  });

  it("names what differs: an attribute dropped, one of another type, data of another kind, an unknown field lost", () => {
    const { conformboolean: _dropped, ...rest } = event.attributes;
    const changed: CloudEvent = {
      ...event,
      attributes: {
        ...rest,
        conformuri: { attr: { $case: "ceString", value: "https://example.com/conform?q=1" } },
      },
      data: { $case: "binaryData", value: Buffer.from('{"n":1,"text":"conform"}') },
      _unknownFields: {},
    };
    expect(v2.differences(event, changed)).toEqual([
      "attribute conformboolean dropped",
      'attribute conformuri ce_uri "https://example.com/conform?q=1" became ce_string "https://example.com/conform?q=1"',
      expect.stringMatching(/^data text_data .* became binary_data 0x7b226e/),
      "an unknown field dropped",
    ]);
  });

  it("in event v1, byte for byte, naming a field added and the unknown field lost", () => {
    const [sent] = v1.sampleEvents(SPECS, "c") as Event[];
    const out = Event.decode(Event.encode({ ...(sent as Event), _unknownFields: {}, subject: "x" }).finish());
    expect(v1.canonical(out)).not.toEqual(v1.canonical(sent as Event));
    expect(v1.differences(sent as Event, out)).toEqual(["an unknown field dropped", 'subject "x" added']);
    expect(v1.encode(sent as Event).includes(UNKNOWN_FIELD_BYTES)).toBe(true);
  });
});

describe("a batch as large as a limit", () => {
  it.each([
    [1, "extension"],
    [1, "data"],
    [2, "extension"],
    [2, "data"],
  ] as const)("in major %i, padded in its %s, encodes to about the target", (major, padding) => {
    const events = eventMajor(major);
    const [template] = events.sampleEvents(SPECS, "t");
    const target = 3 * 1024 * 1024;
    const padded = events.padded(template as never, target, "big", padding);
    const bytes = events.batchBytes(padded);
    expect(bytes).toBeLessThanOrEqual(target);
    expect(bytes).toBeGreaterThan(target - 64 * 1024);
    expect(new Set(padded.map((event) => event.id)).size).toBe(padded.length);
    if (major === 2 && padding === "data")
      expect(JSON.parse((padded[0] as CloudEvent).data?.value as string)).toMatchObject({ n: 1 });
  });
});

describe("the keys a source's events carry", () => {
  it("are found in event v2's text_data, binary_data, id and subject", () => {
    const event = CloudEvent.fromPartial({
      id: "id-k1-3",
      attributes: { subject: { attr: { $case: "ceString", value: "s-k1-4" } } },
      data: { $case: "binaryData", value: Buffer.from('{"key":"k1-5"}') },
    });
    expect(v2.keyTexts(event)).toEqual(['{"key":"k1-5"}', "id-k1-3", "s-k1-4"]);
  });

  it("an event v2 that breaks the format's rules is told apart", () => {
    const base = CloudEvent.fromPartial({ id: "1", source: "/s", type: "t", specVersion: "1.0" });
    expect(v2.cloudEventsProblem(base)).toBeUndefined();
    expect(v2.cloudEventsProblem({ ...base, specVersion: "" })).toMatch(/misses a required attribute/);
    expect(
      v2.cloudEventsProblem({
        ...base,
        attributes: { time: { attr: { $case: "ceString", value: "2024" } } },
      }),
    ).toBe('its "time" is a ce_string, the format has it a ce_timestamp');
    expect(
      v2.cloudEventsProblem({ ...base, attributes: { type: { attr: { $case: "ceString", value: "x" } } } }),
    ).toMatch(/attribute "type", which is a field/);
    expect(
      v2.cloudEventsProblem({ ...base, attributes: { Big: { attr: { $case: "ceString", value: "x" } } } }),
    ).toMatch(/lower-case letters and digits/);
  });
});
