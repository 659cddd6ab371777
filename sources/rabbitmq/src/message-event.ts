import { randomUUID } from "node:crypto";
import {
  cloudEventFromJsonText,
  createEvent,
  type FlowEvent,
  InvalidCloudEventError,
  nowTimestamp,
} from "@flow/sdk";
import type { ConsumeMessage } from "amqplib";
import { type CarriedValue, eventFromAttributes } from "./cloudevent-attributes";

export const INVALID_CLOUDEVENT_TYPE = "flow.rabbitmq.invalid-cloudevent";

/**
 * Header prefixes that carry CloudEvents attributes in binary mode, matched without regard to
 * case: `cloudEvents:` is the AMQP binding's, `cloudEvents_` the form it allows where a colon
 * cannot be used (JMS), `ce_` and `ce-` what Kafka- and HTTP-minded publishers write.
 */
export const CLOUDEVENT_HEADER_PREFIXES = ["cloudevents:", "cloudevents_", "ce_", "ce-"] as const;

const STRUCTURED_JSON = "application/cloudevents+json";

/** What a message's event needs besides the message: the defaults of a message that is no CloudEvent. */
export interface MessageDefaults {
  source: string;
  type: string;
  /** Prefix of the ids made up for messages without a message id. */
  queue: string;
}

/**
 * The event a delivered message makes: a CloudEvent in binary mode (attributes in headers) or
 * structured mode (`application/cloudevents+json` body), or otherwise the body as the payload with
 * the message id as event id. Either way the broker's metadata rides along as extensions, so a
 * redelivery is visible downstream. A message that claims to be a CloudEvent and is not a valid
 * one becomes a `flow.rabbitmq.invalid-cloudevent` event with the reason in `flowerror`.
 */
export function messageEvent(message: ConsumeMessage, defaults: MessageDefaults): FlowEvent {
  let event: FlowEvent;
  try {
    event = cloudEventOf(message) ?? plainEvent(message, defaults);
  } catch (error) {
    if (!(error instanceof InvalidCloudEventError)) throw error;
    event = createEvent({
      id: message.properties.messageId || madeUpId(defaults),
      source: defaults.source,
      type: INVALID_CLOUDEVENT_TYPE,
      time: nowTimestamp(),
      datacontenttype: message.properties.contentType ?? "",
      data: message.content,
      extensions: { flowerror: { value: { $case: "stringValue", value: error.message } } },
    });
  }
  Object.assign(event.extensions, brokerMetadata(message));
  return event;
}

function cloudEventOf(message: ConsumeMessage): FlowEvent | undefined {
  const contentType = message.properties.contentType ?? "";
  if (contentType.split(";")[0]?.trim().toLowerCase() === STRUCTURED_JSON)
    return cloudEventFromJsonText(message.content.toString("utf8"));
  const attributes = headerAttributes(message.properties.headers ?? {});
  if (attributes === undefined) return undefined;
  // The AMQP content-type property is the binary mode's datacontenttype.
  if (message.properties.contentType) attributes.set("datacontenttype", message.properties.contentType);
  return eventFromAttributes(attributes, message.content);
}

/** The attributes of the one prefix that carries a specversion, by lower-case name; none: no CloudEvent. */
function headerAttributes(headers: Record<string, unknown>): Map<string, CarriedValue> | undefined {
  const names = Object.keys(headers);
  const prefix = CLOUDEVENT_HEADER_PREFIXES.find((candidate) =>
    names.some((name) => name.toLowerCase() === `${candidate}specversion`),
  );
  if (prefix === undefined) return undefined;
  const attributes = new Map<string, CarriedValue>();
  for (const name of names) {
    const value = headers[name];
    if (!name.toLowerCase().startsWith(prefix) || value === null || value === undefined) continue;
    attributes.set(name.slice(prefix.length).toLowerCase(), carried(name, value));
  }
  return attributes;
}

function carried(name: string, value: unknown): CarriedValue {
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value;
  if (Buffer.isBuffer(value)) return value;
  const typed = value as { "!"?: string; value?: unknown };
  if (typed["!"] === "timestamp" && typeof typed.value === "number")
    return { "!": "timestamp", value: typed.value };
  throw new InvalidCloudEventError(`header ${name} holds a value no CloudEvents attribute can have`);
}

function plainEvent(message: ConsumeMessage, defaults: MessageDefaults): FlowEvent {
  const { properties } = message;
  return createEvent({
    id: properties.messageId || madeUpId(defaults),
    source: defaults.source,
    type: properties.type || defaults.type,
    time:
      typeof properties.timestamp === "number"
        ? { seconds: BigInt(properties.timestamp), nanos: 0 }
        : nowTimestamp(),
    datacontenttype: properties.contentType ?? "",
    data: message.content,
  });
}

/**
 * A message without a message id has no identity the broker keeps: its redelivery gets another
 * id, so an idempotent sink keeps both copies (publishers that set message-id avoid this).
 */
function madeUpId(defaults: MessageDefaults): string {
  return `${defaults.queue}-${randomUUID()}`;
}

/** The broker's metadata of a delivery, as extension attributes. */
function brokerMetadata(message: ConsumeMessage): FlowEvent["extensions"] {
  const { fields, properties } = message;
  const metadata: FlowEvent["extensions"] = {
    rabbitmqexchange: { value: { $case: "stringValue", value: fields.exchange } },
    rabbitmqroutingkey: { value: { $case: "stringValue", value: fields.routingKey } },
    rabbitmqredelivered: { value: { $case: "booleanValue", value: fields.redelivered } },
  };
  if (properties.messageId)
    metadata.rabbitmqmessageid = { value: { $case: "stringValue", value: String(properties.messageId) } };
  // Quorum queues count earlier deliveries: 0 on the first, 1 on the first redelivery.
  const count = properties.headers?.["x-delivery-count"];
  if (typeof count === "number")
    metadata.rabbitmqdeliverycount = { value: { $case: "integerValue", value: count } };
  return metadata;
}
