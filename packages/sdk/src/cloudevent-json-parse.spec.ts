import {
  cloudEventFromJson,
  cloudEventFromJsonText,
  cloudEventsFromJsonBatch,
  InvalidCloudEventError,
} from "./cloudevent-json-parse";
import { timestampFromRfc3339 } from "./flow-event";

const base = { specversion: "1.0", id: "e-1", source: "/shop", type: "order.created" };
const parsed = (members: object) => cloudEventFromJsonText(JSON.stringify({ ...base, ...members }));
const failure = (text: string, where?: string): string => {
  try {
    cloudEventFromJsonText(text, where);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidCloudEventError);
    return (error as Error).message;
  }
  throw new Error(`${text} was accepted`);
};

describe("cloudEventFromJsonText", () => {
  it("reads the context attributes into the event's fields", () => {
    const event = parsed({
      subject: "orders/1",
      time: "2026-11-01T10:00:00.123456789Z",
      dataschema: "https://example.com/order.json",
    });
    expect(event).toEqual(
      expect.objectContaining({
        ...base,
        subject: "orders/1",
        time: expect.objectContaining(timestampFromRfc3339("2026-11-01T10:00:00.123456789Z")),
        dataschema: "https://example.com/order.json",
        datacontenttype: "",
        extensions: {},
      }),
    );
    expect(event.data.length).toBe(0);
  });

  it("keeps JSON data byte for byte, big integers and formatting included, and says it is JSON", () => {
    const text =
      '{"specversion":"1.0","id":"e","source":"/s","type":"t","data":{"n": 12345678901234567890, "p":12.50}}';
    const event = cloudEventFromJsonText(text);
    expect(event.data.toString()).toBe('{"n": 12345678901234567890, "p":12.50}');
    expect(event.datacontenttype).toBe("application/json");
    // No datacontenttype means JSON: a string is a JSON string.
    expect(parsed({ data: "hello" }).data.toString()).toBe('"hello"');
  });

  it("keeps a string as it is for a content type that is not JSON, and data_base64 as its bytes", () => {
    const text = parsed({ datacontenttype: "text/plain", data: "hello" });
    expect([text.data.toString(), text.datacontenttype]).toEqual(["hello", "text/plain"]);
    const binary = parsed({ datacontenttype: "application/octet-stream", data_base64: "AAH/" });
    expect([...binary.data]).toEqual([0, 1, 255]);
    expect(parsed({ data_base64: "AAH/" }).datacontenttype).toBe("");
  });

  it("makes every other member an extension: 32-bit integers, booleans, strings, other numbers as written", () => {
    const text =
      '{"specversion":"1.0","id":"e","source":"/s","type":"t","tenant":"acme","priority":3,"vip":true,"big":12345678901234567890,"ratio":0.50,"gone":null}';
    expect(cloudEventFromJsonText(text).extensions).toEqual({
      tenant: { value: { $case: "stringValue", value: "acme" } },
      priority: { value: { $case: "integerValue", value: 3 } },
      vip: { value: { $case: "booleanValue", value: true } },
      big: { value: { $case: "stringValue", value: "12345678901234567890" } },
      ratio: { value: { $case: "stringValue", value: "0.50" } },
    });
  });

  it("says what is wrong, naming the event as the caller does", () => {
    expect(failure("not json")).toMatch(/^the CloudEvent is not JSON: /);
    expect(failure("[1]", "event 2")).toBe("event 2 is not a JSON object");
    expect(failure(JSON.stringify({ ...base, specversion: "0.3" }), "event 1")).toBe(
      'event 1: specversion must be "1.0" (found "0.3")',
    );
    expect(failure(JSON.stringify({ ...base, id: "" }), "the event")).toBe("the event has no id");
    expect(failure(JSON.stringify({ ...base, subject: 5 }))).toBe("the CloudEvent: subject must be a string");
    expect(failure(JSON.stringify({ ...base, time: "yesterday" }))).toMatch(/^the CloudEvent: time: /);
    expect(failure(JSON.stringify({ ...base, data: 1, data_base64: "AA==" }))).toBe(
      "the CloudEvent has both data and data_base64",
    );
    expect(failure(JSON.stringify({ ...base, data_base64: "not base64!" }))).toBe(
      "the CloudEvent: data_base64 must be a base64 string",
    );
    expect(failure(JSON.stringify({ ...base, Tenant: "x" }))).toBe(
      'the CloudEvent: "Tenant" is not a CloudEvents attribute name (a-z, 0-9)',
    );
    expect(failure(JSON.stringify({ ...base, tags: ["a"] }))).toBe(
      'the CloudEvent: extension "tags" must be a string, number or boolean',
    );
  });
});

describe("cloudEventsFromJsonBatch", () => {
  it("reads each element, keeping each one's data as written and naming it by index", () => {
    const text = `[${JSON.stringify(base)}, {"specversion":"1.0","id":"e-2","source":"/s","type":"t","data":[98765432109876543210]}]`;
    const events = cloudEventsFromJsonBatch(JSON.parse(text), text);
    expect(events.map((event) => event.id)).toEqual(["e-1", "e-2"]);
    expect(events[1]?.data.toString()).toBe("[98765432109876543210]");
    const bad = `[${JSON.stringify(base)}, ${JSON.stringify({ ...base, type: "" })}]`;
    expect(() => cloudEventsFromJsonBatch(JSON.parse(bad), bad)).toThrow("event 1 has no type");
    expect(() => cloudEventFromJson({}, "{}")).toThrow(InvalidCloudEventError);
    expect(() => cloudEventsFromJsonBatch({}, "{}")).toThrow("a CloudEvents batch is not a JSON array");
  });
});
