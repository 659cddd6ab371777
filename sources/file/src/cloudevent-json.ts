import {
  type AttributeValue,
  CLOUDEVENT_JSON_MEMBERS,
  createEvent,
  type FlowEvent,
  isJsonContentType,
  timestampFromRfc3339,
} from "@flow/sdk";
import { jsonMemberTexts } from "./json-member-texts";

/** A line that is JSON but not a CloudEvent Flow can carry; the message says what is wrong. */
export class InvalidCloudEventError extends Error {
  override name = "InvalidCloudEventError";
}

const EXTENSION_NAME = /^[a-z0-9]+$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/**
 * A CloudEvent in the JSON event format (CloudEvents 1.0, structured mode) as a Flow event, from
 * its text and the value JSON.parse made of it. JSON `data` is kept as its own text, byte for byte
 * (the parsed value would round big integers); `data_base64` as the bytes it encodes. Every
 * attribute the event type system does not name is an extension; null attributes count as absent.
 */
export function cloudEventFromJson(value: unknown, text: string): FlowEvent {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InvalidCloudEventError("a CloudEvent must be a JSON object");
  }
  const object = value as Record<string, unknown>;
  let memberTexts: Map<string, string> | undefined;
  const memberText = (name: string): string => {
    memberTexts ??= jsonMemberTexts(text);
    return memberTexts.get(name) ?? "";
  };
  if (object.specversion !== "1.0") {
    throw new InvalidCloudEventError(
      `specversion must be "1.0" (found ${JSON.stringify(object.specversion) ?? "none"})`,
    );
  }
  const id = requiredString(object, "id");
  const source = requiredString(object, "source");
  const type = requiredString(object, "type");
  const subject = optionalString(object, "subject");
  const contentType = optionalString(object, "datacontenttype");
  const dataschema = optionalString(object, "dataschema");
  const timeText = optionalString(object, "time");
  let time: FlowEvent["time"];
  if (timeText !== undefined) {
    try {
      time = timestampFromRfc3339(timeText);
    } catch (error) {
      throw new InvalidCloudEventError(`time: ${(error as Error).message}`);
    }
  }
  const event = createEvent({
    id,
    source,
    type,
    subject,
    time,
    datacontenttype: contentType,
    dataschema,
    data: eventData(object, contentType, memberText),
  });
  if (object.data !== undefined && object.data !== null && contentType === undefined)
    event.datacontenttype = "application/json";
  for (const [name, attribute] of Object.entries(object)) {
    if (CLOUDEVENT_JSON_MEMBERS.has(name) || attribute === null || attribute === undefined) continue;
    if (!EXTENSION_NAME.test(name)) {
      throw new InvalidCloudEventError(
        `extension attribute "${name}" is not a CloudEvents attribute name (lower-case a-z, 0-9)`,
      );
    }
    event.extensions[name] = { value: extensionValue(name, attribute, memberText) };
  }
  return event;
}

function eventData(
  object: Record<string, unknown>,
  contentType: string | undefined,
  memberText: (name: string) => string,
): Buffer {
  const hasData = object.data !== undefined && object.data !== null;
  const base64 = object.data_base64;
  if (hasData && base64 !== undefined && base64 !== null) {
    throw new InvalidCloudEventError("a CloudEvent has data or data_base64, not both");
  }
  if (base64 !== undefined && base64 !== null) {
    if (typeof base64 !== "string" || !BASE64.test(base64))
      throw new InvalidCloudEventError("data_base64 must be a base64 string");
    return Buffer.from(base64, "base64");
  }
  if (!hasData) return Buffer.alloc(0);
  // JSON content is carried as JSON text; any other content type's data is a string in this format.
  if (!isJsonContentType(contentType ?? "") && typeof object.data === "string")
    return Buffer.from(object.data, "utf8");
  return Buffer.from(memberText("data"), "utf8");
}

function extensionValue(name: string, value: unknown, memberText: (name: string) => string): AttributeValue {
  switch (typeof value) {
    case "boolean":
      return { $case: "booleanValue", value };
    case "string":
      return { $case: "stringValue", value };
    case "number":
      // The CloudEvents type system has only 32-bit integers; other numbers travel as their text,
      // as written (a double would round 12345678901234567890).
      if (Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX)
        return { $case: "integerValue", value };
      return { $case: "stringValue", value: memberText(name) };
    default:
      throw new InvalidCloudEventError(`extension attribute "${name}" must be a string, number or boolean`);
  }
}

function requiredString(object: Record<string, unknown>, name: string): string {
  const value = object[name];
  if (typeof value !== "string" || value === "")
    throw new InvalidCloudEventError(`${name} must be a non-empty string`);
  return value;
}

function optionalString(object: Record<string, unknown>, name: string): string | undefined {
  const value = object[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new InvalidCloudEventError(`${name} must be a string`);
  return value;
}
