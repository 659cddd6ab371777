import {
  type AttributeValue,
  CLOUDEVENT_JSON_MEMBERS,
  createEvent,
  type FlowEvent,
  isJsonContentType,
  timestampFromNanos,
  timestampFromRfc3339,
} from "@flow/sdk";
import type { JsMsg, MsgHdrs } from "nats";

/** The extension attributes every event of this source carries: where the message was in JetStream. */
export const NATS_ATTRIBUTES = {
  subject: "natssubject",
  stream: "natsstream",
  sequence: "natssequence",
  deliveryCount: "natsdeliverycount",
  redelivered: "natsredelivered",
} as const;

export const STRUCTURED_CONTENT_TYPE = "application/cloudevents+json";

const EXTENSION_NAME = /^[a-z0-9]{1,20}$/;
const CE_HEADER = /^ce-/i;
const INT32_MAX = 2_147_483_647;

/**
 * A JetStream message as a Flow event. A CloudEvent in binary mode (ce-* headers, content-type) or
 * in structured mode (content-type application/cloudevents+json) keeps its own attributes; any
 * other message gets the id `<stream>-<stream sequence>` (the same on every redelivery, so an
 * idempotent sink keeps it once), `source` nats://<stream>, and its NATS subject as `subject`. In
 * every case the NATS metadata is added as extensions (natssubject, natsstream, natssequence,
 * natsdeliverycount, natsredelivered). A message that claims to be a CloudEvent and is not one
 * becomes a plain event, so one bad message never stops the stream.
 */
export function messageEvent(message: JsMsg, recogniseCloudEvents: boolean): FlowEvent {
  const headers = message.headers;
  const contentType = headers?.get("content-type") ?? "";
  const data = Buffer.from(message.data);
  let event: FlowEvent | undefined;
  if (recogniseCloudEvents) {
    if (contentType.toLowerCase().startsWith(STRUCTURED_CONTENT_TYPE)) event = structuredEvent(data);
    else if (headers?.get("ce-id") && headers.get("ce-specversion")) event = binaryEvent(headers, data);
  }
  event ??= createEvent({
    id: `${message.info.stream}-${message.info.streamSequence}`,
    source: `nats://${message.info.stream}`,
    type: "nats.message",
    subject: message.subject,
    time: timestampFromNanos(BigInt(message.info.timestampNanos)),
    datacontenttype: contentType,
    data,
  });
  const sequence = message.info.streamSequence;
  event.extensions[NATS_ATTRIBUTES.subject] = { value: { $case: "stringValue", value: message.subject } };
  event.extensions[NATS_ATTRIBUTES.stream] = { value: { $case: "stringValue", value: message.info.stream } };
  // A stream sequence is a uint64; CloudEvents integers are 32-bit, so it travels as its decimal text.
  event.extensions[NATS_ATTRIBUTES.sequence] = { value: { $case: "stringValue", value: String(sequence) } };
  event.extensions[NATS_ATTRIBUTES.deliveryCount] = {
    value: { $case: "integerValue", value: Math.min(message.info.deliveryCount, INT32_MAX) },
  };
  event.extensions[NATS_ATTRIBUTES.redelivered] = {
    value: { $case: "booleanValue", value: message.info.redelivered },
  };
  return event;
}

/** CloudEvents NATS binding, binary mode: ce-<attribute> headers, datacontenttype in content-type. */
function binaryEvent(headers: MsgHdrs, data: Buffer): FlowEvent | undefined {
  const get = (name: string): string | undefined => (headers.has(name) ? headers.get(name) : undefined);
  if (get("ce-specversion") !== "1.0") return undefined;
  const id = get("ce-id");
  const source = get("ce-source");
  const type = get("ce-type");
  if (!id || !source || !type) return undefined;
  const time = parseTime(get("ce-time"));
  if (time === null) return undefined;
  const event = createEvent({
    id,
    source,
    type,
    subject: get("ce-subject"),
    time,
    datacontenttype: get("content-type"),
    dataschema: get("ce-dataschema"),
    data,
  });
  for (const key of headers.keys()) {
    if (!CE_HEADER.test(key)) continue;
    const name = key.slice(3).toLowerCase();
    if (CLOUDEVENT_JSON_MEMBERS.has(name) || !EXTENSION_NAME.test(name)) continue;
    event.extensions[name] = { value: { $case: "stringValue", value: headers.get(key) } };
  }
  return event;
}

/** CloudEvents JSON format: the whole event is the message body. */
function structuredEvent(body: Buffer): FlowEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body.toString("utf8"));
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const object = value as Record<string, unknown>;
  const text = (name: string): string | undefined =>
    typeof object[name] === "string" ? (object[name] as string) : undefined;
  if (object.specversion !== "1.0") return undefined;
  const id = text("id");
  const source = text("source");
  const type = text("type");
  if (!id || !source || !type) return undefined;
  const time = parseTime(text("time"));
  if (time === null) return undefined;
  const contentType = text("datacontenttype");
  let data = Buffer.alloc(0);
  if (typeof object.data_base64 === "string") data = Buffer.from(object.data_base64, "base64");
  else if (object.data !== undefined && object.data !== null) {
    // Non-JSON content is a string in this format; JSON content is carried as JSON.
    data =
      typeof object.data === "string" && !isJsonContentType(contentType ?? "application/json")
        ? Buffer.from(object.data, "utf8")
        : Buffer.from(JSON.stringify(object.data), "utf8");
  }
  const event = createEvent({
    id,
    source,
    type,
    subject: text("subject"),
    time,
    datacontenttype:
      contentType ?? (object.data !== undefined && object.data !== null ? "application/json" : ""),
    dataschema: text("dataschema"),
    data,
  });
  for (const [name, attribute] of Object.entries(object)) {
    if (CLOUDEVENT_JSON_MEMBERS.has(name) || !EXTENSION_NAME.test(name)) continue;
    const extension = extensionValue(attribute);
    if (extension) event.extensions[name] = { value: extension };
  }
  return event;
}

function extensionValue(value: unknown): AttributeValue | undefined {
  if (typeof value === "boolean") return { $case: "booleanValue", value };
  if (typeof value === "string") return { $case: "stringValue", value };
  if (typeof value === "number" && Number.isInteger(value) && Math.abs(value) <= INT32_MAX)
    return { $case: "integerValue", value };
  if (typeof value === "number") return { $case: "stringValue", value: String(value) };
  return undefined;
}

/** undefined: no time; null: a time that is not RFC 3339 (the message is then not a valid CloudEvent). */
function parseTime(text: string | undefined): FlowEvent["time"] | null {
  if (text === undefined) return undefined;
  try {
    return timestampFromRfc3339(text);
  } catch {
    return null;
  }
}
