import { type AttributeValue, cloudEventJsonLine, type FlowEvent, timestampToRfc3339 } from "@flow/sdk";
import type { Options } from "amqplib";
import type { ContentMode } from "./rabbitmq-consumer-config";

/** The AMQP binding's prefix of CloudEvents attributes in application properties (headers). */
export const CLOUDEVENT_HEADER_PREFIX = "cloudEvents:";
export const STRUCTURED_CONTENT_TYPE = "application/cloudevents+json; charset=utf-8";

export interface OutgoingMessage {
  content: Buffer;
  options: Options.Publish;
}

/**
 * An event as an AMQP message, persistent (delivery mode 2) and with the event id as its
 * message-id, in the CloudEvents AMQP binding: binary mode maps datacontenttype onto the
 * content-type property and every other attribute onto a `cloudEvents:` header; structured mode
 * sends the JSON event format.
 */
export function eventMessage(event: FlowEvent, mode: ContentMode): OutgoingMessage {
  const options: Options.Publish = { persistent: true, messageId: event.id };
  if (event.time) options.timestamp = Number(event.time.seconds);
  if (mode === "structured") {
    options.contentType = STRUCTURED_CONTENT_TYPE;
    return { content: Buffer.from(cloudEventJsonLine(event).trimEnd(), "utf8"), options };
  }
  if (event.datacontenttype) options.contentType = event.datacontenttype;
  const headers: Record<string, unknown> = {};
  const put = (name: string, value: unknown): void => {
    headers[`${CLOUDEVENT_HEADER_PREFIX}${name}`] = value;
  };
  put("specversion", event.specversion || "1.0");
  put("id", event.id);
  put("source", event.source);
  put("type", event.type);
  if (event.subject) put("subject", event.subject);
  // A string keeps all nine digits; an AMQP timestamp holds whole seconds.
  if (event.time) put("time", timestampToRfc3339(event.time));
  if (event.dataschema) put("dataschema", event.dataschema);
  for (const [name, attribute] of Object.entries(event.extensions)) {
    if (attribute.value !== undefined) put(name, headerValue(attribute.value));
  }
  options.headers = headers;
  return { content: event.data, options };
}

function headerValue(value: AttributeValue): unknown {
  switch (value.$case) {
    case "binaryValue":
      return Buffer.from(value.value);
    case "timestampValue":
      return timestampToRfc3339(value.value);
    default:
      return value.value;
  }
}

/** The attribute `name` of the event as text (context attributes by name, else an extension). */
export function attributeText(event: FlowEvent, name: string): string | undefined {
  const context: Record<string, string> = {
    id: event.id,
    source: event.source,
    type: event.type,
    subject: event.subject,
    dataschema: event.dataschema,
    datacontenttype: event.datacontenttype,
  };
  if (name in context) return context[name] || undefined;
  const value = event.extensions[name]?.value;
  if (value === undefined) return undefined;
  const carried = headerValue(value);
  return Buffer.isBuffer(carried) ? carried.toString("base64") : String(carried);
}
