import {
  type AttributeValue,
  CLOUDEVENT_JSON_MEMBERS,
  createEvent,
  type FlowEvent,
  isJsonContentType,
  timestampFromRfc3339,
} from "@flow/sdk";
import { badRequest } from "./rejected-request";

/** CloudEvents attribute names: lower-case letters and digits (the spec's recommended limit is 20). */
export const EXTENSION_NAME = /^[a-z0-9]+$/;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/**
 * One CloudEvent of the JSON event format (structured mode, or one element of a batch) as a Flow
 * event; `where` names it in the 400 reason ("the event", "event 3"). JSON `data` is written back
 * with JSON.stringify, so its formatting is not kept and integers beyond 2^53 are rounded;
 * `data_base64` keeps bytes exactly.
 */
export function cloudEventFromJson(value: unknown, where: string): FlowEvent {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw badRequest(`${where} is not a JSON object`);
  const object = value as Record<string, unknown>;
  if (object.specversion !== "1.0")
    throw badRequest(
      `${where}: specversion must be "1.0" (found ${JSON.stringify(object.specversion) ?? "none"})`,
    );
  const text = (name: string): string | undefined => {
    const member = object[name];
    if (member === undefined || member === null) return undefined;
    if (typeof member !== "string") throw badRequest(`${where}: ${name} must be a string`);
    return member;
  };
  const required = (name: string): string => {
    const member = text(name);
    if (!member) throw badRequest(`${where} has no ${name}`);
    return member;
  };
  const contentType = text("datacontenttype");
  const hasData = object.data !== undefined && object.data !== null;
  const base64 = text("data_base64");
  if (hasData && base64 !== undefined) throw badRequest(`${where} has both data and data_base64`);
  let data: Buffer = Buffer.alloc(0);
  if (base64 !== undefined) data = Buffer.from(base64, "base64");
  else if (hasData)
    data =
      typeof object.data === "string" && !isJsonContentType(contentType ?? "")
        ? Buffer.from(object.data, "utf8")
        : Buffer.from(JSON.stringify(object.data), "utf8");
  const event = createEvent({
    id: required("id"),
    source: required("source"),
    type: required("type"),
    subject: text("subject"),
    time: timeOf(text("time"), where),
    datacontenttype: contentType ?? (hasData ? "application/json" : ""),
    dataschema: text("dataschema"),
    data,
  });
  for (const [name, member] of Object.entries(object)) {
    if (CLOUDEVENT_JSON_MEMBERS.has(name) || member === null) continue;
    if (!EXTENSION_NAME.test(name))
      throw badRequest(`${where}: "${name}" is not a CloudEvents attribute name (a-z, 0-9)`);
    event.extensions[name] = { value: extensionValue(member, `${where}: extension "${name}"`) };
  }
  return event;
}

/** An RFC 3339 `time`, or a 400 saying where it is wrong. */
export function timeOf(text: string | undefined, where: string): FlowEvent["time"] {
  if (text === undefined) return undefined;
  try {
    return timestampFromRfc3339(text);
  } catch (error) {
    throw badRequest(`${where}: time: ${(error as Error).message}`);
  }
}

function extensionValue(value: unknown, where: string): AttributeValue {
  if (typeof value === "boolean") return { $case: "booleanValue", value };
  if (typeof value === "string") return { $case: "stringValue", value };
  if (typeof value === "number") {
    if (Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX)
      return { $case: "integerValue", value };
    return { $case: "stringValue", value: String(value) };
  }
  throw badRequest(`${where} must be a string, number or boolean`);
}
