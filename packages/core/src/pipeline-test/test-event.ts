import {
  type AttributeValue,
  CLOUDEVENT_JSON_MEMBERS,
  cloudEventJsonLine,
  createEvent,
  type FlowEvent,
  isJsonContentType,
  timestampFromRfc3339,
} from "@flow/sdk";

/** Attribute defaults of a test event, so a test names only what it is about. */
export const TEST_EVENT_SOURCE = "flow-test";
export const TEST_EVENT_TYPE = "flow.test";

const EXTENSION_NAME = /^[a-z0-9]+$/;

/**
 * A test's input event (CloudEvents JSON members, as YAML or JSON gave them) as a Flow event.
 * `id` defaults to `number` (its 1-based place in the input), `source` to "flow-test", `type` to
 * "flow.test"; `data` that is not a string, or a string with a JSON content type, is the JSON
 * payload; `data_base64` is bytes; every other member is an extension (string, number, boolean).
 * Throws an Error saying which member is wrong.
 */
export function testEvent(value: Record<string, unknown>, number: number): FlowEvent {
  const text = (name: string, fallback?: string): string | undefined => {
    const member = value[name];
    if (member === undefined || member === null) return fallback;
    if (typeof member === "number" && (name === "id" || name === "subject")) return String(member);
    if (typeof member !== "string") throw new Error(`${name} must be a string`);
    return member;
  };
  if (value.specversion !== undefined && value.specversion !== "1.0")
    throw new Error(`specversion must be "1.0" (found ${JSON.stringify(value.specversion)})`);
  const contentType = text("datacontenttype");
  const timeText = text("time");
  let time: FlowEvent["time"];
  if (timeText !== undefined) {
    try {
      time = timestampFromRfc3339(timeText);
    } catch (error) {
      throw new Error(`time: ${(error as Error).message}`);
    }
  }
  const event = createEvent({
    id: text("id", String(number)) as string,
    source: text("source", TEST_EVENT_SOURCE) as string,
    type: text("type", TEST_EVENT_TYPE) as string,
    subject: text("subject"),
    time,
    datacontenttype: contentType,
    dataschema: text("dataschema"),
    data: payload(value, contentType),
  });
  // In the CloudEvents JSON format, `data` without a content type is JSON.
  if (value.data !== undefined && value.data !== null && contentType === undefined)
    event.datacontenttype = "application/json";
  for (const [name, member] of Object.entries(value)) {
    if (CLOUDEVENT_JSON_MEMBERS.has(name) || member === null || member === undefined) continue;
    if (!EXTENSION_NAME.test(name))
      throw new Error(`"${name}" is not a CloudEvents attribute name (lower-case a-z, 0-9)`);
    event.extensions[name] = { value: extensionValue(name, member) };
  }
  return event;
}

/** An event as the CloudEvents JSON format writes it (what expectations are compared with). */
export function eventAsJson(event: FlowEvent): Record<string, unknown> {
  return JSON.parse(cloudEventJsonLine(event)) as Record<string, unknown>;
}

function payload(value: Record<string, unknown>, contentType: string | undefined): Buffer | undefined {
  const { data, data_base64: base64 } = value;
  if (data !== undefined && base64 !== undefined)
    throw new Error("an event has data or data_base64, not both");
  if (base64 !== undefined) {
    if (typeof base64 !== "string") throw new Error("data_base64 must be a base64 string");
    return Buffer.from(base64, "base64");
  }
  if (data === undefined || data === null) return undefined;
  // A string is the payload's text unless the content type says it is JSON (then it is a JSON string).
  if (typeof data === "string" && contentType !== undefined && !isJsonContentType(contentType))
    return Buffer.from(data, "utf8");
  return Buffer.from(JSON.stringify(data), "utf8");
}

function extensionValue(name: string, value: unknown): AttributeValue {
  if (typeof value === "boolean") return { $case: "booleanValue", value };
  if (typeof value === "string") return { $case: "stringValue", value };
  if (typeof value === "number" && Number.isInteger(value) && Math.abs(value) <= 2 ** 31)
    return { $case: "integerValue", value };
  if (typeof value === "number") return { $case: "stringValue", value: String(value) };
  throw new Error(`extension "${name}" must be a string, number or boolean`);
}
