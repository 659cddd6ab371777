import {
  CLOUDEVENT_JSON_MEMBERS,
  cloudEventFromJsonText,
  createEvent,
  type FlowEvent,
  InvalidCloudEventError,
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

/** CloudEvents JSON format: the whole event is the message body; undefined when it is not a valid one. */
function structuredEvent(body: Buffer): FlowEvent | undefined {
  try {
    return cloudEventFromJsonText(body.toString("utf8"));
  } catch (error) {
    if (error instanceof InvalidCloudEventError) return undefined;
    throw error;
  }
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
