import { CLOUDEVENT_JSON_MEMBERS } from "./cloudevent-json-members";
import { type AttributeValue, createEvent, type FlowEvent, timestampFromRfc3339 } from "./flow-event";
import { isJsonContentType } from "./json-content-type";
import { jsonMemberTexts, topLevelJsonTexts } from "./top-level-json-texts";

/** JSON that is not a CloudEvent Flow can carry; the message says what is wrong and where. */
export class InvalidCloudEventError extends Error {
  override name = "InvalidCloudEventError";
}

/** CloudEvents attribute names: lower-case letters and digits. */
export const CLOUDEVENT_ATTRIBUTE_NAME = /^[a-z0-9]+$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/**
 * A CloudEvent in the JSON event format (CloudEvents 1.0, structured mode) as a Flow event, from its
 * text. `where` names the event in the messages of the InvalidCloudEventError it throws for
 * anything that is not a CloudEvent ("the event has no id", "event 3: time: ...").
 */
export function cloudEventFromJsonText(text: string, where = "the CloudEvent"): FlowEvent {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidCloudEventError(`${where} is not JSON: ${(error as Error).message}`);
  }
  return cloudEventFromJson(value, text, where);
}

/**
 * A CloudEvent in the JSON event format as a Flow event, from the value JSON.parse made of `text`.
 * JSON `data` is kept as its own text, byte for byte (the parsed value would round big integers);
 * a string `data` of a non-JSON datacontenttype as that string; `data_base64` as the bytes it
 * encodes. An absent datacontenttype means JSON, so it is set to application/json when there is
 * `data`. Every member the event type system does not name is an extension (a 32-bit integer, a
 * boolean or a string; other numbers as their text as written); null members count as absent.
 */
export function cloudEventFromJson(value: unknown, text: string, where = "the CloudEvent"): FlowEvent {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new InvalidCloudEventError(`${where} is not a JSON object`);
  const object = value as Record<string, unknown>;
  let memberTexts: Map<string, string> | undefined;
  const memberText = (name: string): string => {
    memberTexts ??= jsonMemberTexts(text);
    return memberTexts.get(name) ?? "";
  };
  if (object.specversion !== "1.0")
    throw new InvalidCloudEventError(
      `${where}: specversion must be "1.0" (found ${JSON.stringify(object.specversion) ?? "none"})`,
    );
  const optional = (name: string): string | undefined => {
    const member = object[name];
    if (member === undefined || member === null) return undefined;
    if (typeof member !== "string") throw new InvalidCloudEventError(`${where}: ${name} must be a string`);
    return member;
  };
  const required = (name: string): string => {
    const member = optional(name);
    if (!member) throw new InvalidCloudEventError(`${where} has no ${name}`);
    return member;
  };
  const contentType = optional("datacontenttype");
  const hasData = object.data !== undefined && object.data !== null;
  const event = createEvent({
    id: required("id"),
    source: required("source"),
    type: required("type"),
    subject: optional("subject"),
    time: eventTime(optional("time"), where),
    datacontenttype: contentType ?? (hasData ? "application/json" : ""),
    dataschema: optional("dataschema"),
    data: eventData(object, contentType, memberText, where),
  });
  for (const [name, member] of Object.entries(object)) {
    if (CLOUDEVENT_JSON_MEMBERS.has(name) || member === null || member === undefined) continue;
    if (!CLOUDEVENT_ATTRIBUTE_NAME.test(name))
      throw new InvalidCloudEventError(`${where}: "${name}" is not a CloudEvents attribute name (a-z, 0-9)`);
    event.extensions[name] = { value: extensionValue(name, member, memberText, where) };
  }
  return event;
}

/**
 * The events of a JSON batch (CloudEvents batch format: a JSON array of CloudEvents), from the
 * array JSON.parse made of `text`; each is named `event <index>` in messages.
 */
export function cloudEventsFromJsonBatch(value: unknown, text: string): FlowEvent[] {
  if (!Array.isArray(value)) throw new InvalidCloudEventError("a CloudEvents batch is not a JSON array");
  const elements = topLevelJsonTexts(text);
  return value.map((element, index) =>
    cloudEventFromJson(element, elements[index]?.text ?? "", `event ${index}`),
  );
}

function eventTime(text: string | undefined, where: string): FlowEvent["time"] {
  if (text === undefined) return undefined;
  try {
    return timestampFromRfc3339(text);
  } catch (error) {
    throw new InvalidCloudEventError(`${where}: time: ${(error as Error).message}`);
  }
}

function eventData(
  object: Record<string, unknown>,
  contentType: string | undefined,
  memberText: (name: string) => string,
  where: string,
): Buffer {
  const hasData = object.data !== undefined && object.data !== null;
  const base64 = object.data_base64;
  const hasBase64 = base64 !== undefined && base64 !== null;
  if (hasData && hasBase64) throw new InvalidCloudEventError(`${where} has both data and data_base64`);
  if (hasBase64) {
    if (typeof base64 !== "string" || !BASE64.test(base64))
      throw new InvalidCloudEventError(`${where}: data_base64 must be a base64 string`);
    return Buffer.from(base64, "base64");
  }
  if (!hasData) return Buffer.alloc(0);
  // JSON content is carried as JSON text; any other content type's data is a string in this format.
  if (!isJsonContentType(contentType ?? "") && typeof object.data === "string")
    return Buffer.from(object.data, "utf8");
  return Buffer.from(memberText("data"), "utf8");
}

function extensionValue(
  name: string,
  value: unknown,
  memberText: (name: string) => string,
  where: string,
): AttributeValue {
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
      throw new InvalidCloudEventError(`${where}: extension "${name}" must be a string, number or boolean`);
  }
}
