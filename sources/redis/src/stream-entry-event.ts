import {
  CLOUDEVENT_ATTRIBUTE_NAME,
  CLOUDEVENT_JSON_MEMBERS,
  cloudEventFromJsonText,
  createEvent,
  type FlowEvent,
  timestampFromNanos,
  timestampFromRfc3339,
} from "@flow/sdk";

/** One stream entry as XREADGROUP / XAUTOCLAIM return it: its id and its fields in order. */
export interface StreamEntry {
  id: string;
  fields: [name: string, value: Buffer][];
}

/** What the source says about entries that are not CloudEvents. */
export interface PlainEntryShape {
  stream: string;
  /** The field holding the payload; undefined: the whole entry as a JSON object. */
  payloadField?: string;
  source: string;
  type: string;
}

/** The field that carries the payload of a binary-mode CloudEvent, and the content-type fields. */
export const DATA_FIELD = "data";
const CONTENT_TYPE_FIELDS = ["content-type", "content_type"];
const STRUCTURED_MEDIA_TYPE = "application/cloudevents+json";

/**
 * A stream entry as a Flow event, with the Redis metadata as extensions `redisstream`,
 * `redisentryid` and `redisdeliverycount`. CloudEvents are recognised in both modes:
 * - binary: `ce_<attribute>` (or `ce-<attribute>`) fields with `ce_specversion` among them, the
 *   payload in the `data` field and its type in `content-type` (or `ce_datacontenttype`);
 * - structured: a `content-type` field of `application/cloudevents+json` and the event, in the
 *   CloudEvents JSON format, in the `data` field.
 * Anything else is a plain entry: id `<stream>:<entry id>`, time from the entry id, and as payload
 * the configured field's bytes or the whole entry as a JSON object of UTF-8 strings. An entry that
 * claims to be a CloudEvent but is not a valid one is read as a plain entry too, with the reason in
 * the extension `rediscloudeventerror`, so a bad entry never stops the stream nor is lost.
 */
export function streamEntryEvent(
  entry: StreamEntry,
  deliveryCount: number,
  shape: PlainEntryShape,
): FlowEvent {
  let event: FlowEvent;
  try {
    event = cloudEventOf(entry) ?? plainEvent(entry, shape);
  } catch (error) {
    event = plainEvent(entry, shape);
    event.extensions.rediscloudeventerror = {
      value: { $case: "stringValue", value: (error as Error).message },
    };
  }
  event.extensions.redisstream = { value: { $case: "stringValue", value: shape.stream } };
  event.extensions.redisentryid = { value: { $case: "stringValue", value: entry.id } };
  event.extensions.redisdeliverycount = { value: { $case: "integerValue", value: deliveryCount } };
  return event;
}

/** The time in a stream entry id (`<milliseconds>-<sequence>`). */
export function entryIdTime(id: string): FlowEvent["time"] {
  const ms = /^(\d+)-\d+$/.exec(id)?.[1];
  return ms === undefined ? undefined : timestampFromNanos(BigInt(ms) * 1_000_000n);
}

function plainEvent(entry: StreamEntry, shape: PlainEntryShape): FlowEvent {
  const common = { id: `${shape.stream}:${entry.id}`, source: shape.source, type: shape.type };
  if (shape.payloadField !== undefined) {
    return createEvent({
      ...common,
      time: entryIdTime(entry.id),
      datacontenttype: fieldText(entry, ...CONTENT_TYPE_FIELDS),
      data: field(entry, shape.payloadField) ?? Buffer.alloc(0),
    });
  }
  const object: Record<string, string> = {};
  for (const [name, value] of entry.fields) object[name] = value.toString("utf8");
  return createEvent({ ...common, time: entryIdTime(entry.id), data: object });
}

function cloudEventOf(entry: StreamEntry): FlowEvent | undefined {
  const contentType = fieldText(entry, ...CONTENT_TYPE_FIELDS);
  if (contentType?.split(";")[0]?.trim().toLowerCase() === STRUCTURED_MEDIA_TYPE) {
    return cloudEventFromJsonText(field(entry, DATA_FIELD)?.toString("utf8") ?? "");
  }
  const attributes = new Map<string, string>();
  for (const [name, value] of entry.fields) {
    const lower = name.toLowerCase();
    if (lower.startsWith("ce_") || lower.startsWith("ce-"))
      attributes.set(lower.slice(3), value.toString("utf8"));
  }
  if (!attributes.has("specversion")) return undefined;
  return binaryCloudEvent(attributes, contentType, field(entry, DATA_FIELD) ?? Buffer.alloc(0));
}

function binaryCloudEvent(
  attributes: Map<string, string>,
  contentType: string | undefined,
  data: Buffer,
): FlowEvent {
  checkSpecversion(attributes.get("specversion"));
  const time = attributes.get("time");
  const event = createEvent({
    id: required(attributes.get("id"), "id"),
    source: required(attributes.get("source"), "source"),
    type: required(attributes.get("type"), "type"),
    subject: attributes.get("subject"),
    time: time === undefined ? undefined : timestampFromRfc3339(time),
    datacontenttype: attributes.get("datacontenttype") ?? contentType,
    dataschema: attributes.get("dataschema"),
    data,
  });
  for (const [name, value] of attributes) {
    if (CLOUDEVENT_JSON_MEMBERS.has(name)) continue;
    if (!CLOUDEVENT_ATTRIBUTE_NAME.test(name))
      throw new Error(`ce_${name} is not a CloudEvents attribute name (a-z, 0-9)`);
    event.extensions[name] = { value: { $case: "stringValue", value } };
  }
  return event;
}

function checkSpecversion(value: unknown): void {
  if (value !== "1.0")
    throw new Error(`specversion must be "1.0" (found ${JSON.stringify(value) ?? "none"})`);
}

function required(value: string | undefined, name: string): string {
  if (value === undefined || value === "") throw new Error(`the CloudEvent has no ${name}`);
  return value;
}

function field(entry: StreamEntry, name: string): Buffer | undefined {
  return entry.fields.find(([fieldName]) => fieldName === name)?.[1];
}

function fieldText(entry: StreamEntry, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = field(entry, name);
    if (value !== undefined) return value.toString("utf8");
  }
  return undefined;
}
