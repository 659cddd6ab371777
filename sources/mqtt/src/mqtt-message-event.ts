import { randomUUID } from "node:crypto";
import {
  cloudEventFromJsonText,
  createEvent,
  type FlowEvent,
  nowTimestamp,
  timestampFromRfc3339,
} from "@flow/sdk";
import type { IPublishPacket } from "mqtt";

/** The content type of the CloudEvents JSON event format (structured mode). */
export const CLOUDEVENTS_JSON = "application/cloudevents+json";

const EXTENSION_NAME = /^[a-z0-9]{1,20}$/;
/** The attributes a Flow event keeps in its own fields, not among its extensions. */
const CONTEXT_ATTRIBUTES = new Set([
  "specversion",
  "id",
  "source",
  "type",
  "subject",
  "time",
  "datacontenttype",
  "dataschema",
]);

export interface MessageContext {
  /** Where the message came from, for the `source` of a plain message: mqtt://host:port. */
  broker: string;
  clientId: string;
  eventType: string;
  cloudEvents: "auto" | "off";
}

export type MessageEvent = {
  event: FlowEvent;
  cloudEvent: "binary" | "structured" | "none";
  invalid?: string;
};

/**
 * The event a received MQTT message makes. A CloudEvent carried by the message (CloudEvents MQTT
 * binding: binary mode with attributes as MQTT 5 user properties and datacontenttype as the
 * Content Type; structured mode with Content Type application/cloudevents+json, or, on MQTT 3.1.1
 * which has no content type, a JSON payload that is a CloudEvent) becomes that event. Any other
 * message becomes an event of its own with a fresh id (MQTT messages have none). Either way the
 * broker's metadata is added: mqtttopic, mqttqos, mqttretain, mqttdup, mqttpacketid.
 */
export function messageEvent(topic: string, packet: IPublishPacket, context: MessageContext): MessageEvent {
  const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
  const userProperties = flatUserProperties(packet.properties?.userProperties);
  const contentType = packet.properties?.contentType ?? "";
  let result: MessageEvent | undefined;
  let invalid: string | undefined;
  if (context.cloudEvents === "auto") {
    try {
      if (userProperties.specversion !== undefined) {
        result = { event: binaryCloudEvent(userProperties, contentType, payload), cloudEvent: "binary" };
      } else if (isStructured(contentType, payload)) {
        result = { event: cloudEventFromJsonText(payload.toString("utf8")), cloudEvent: "structured" };
      }
    } catch (error) {
      invalid = (error as Error).message;
    }
  }
  if (!result) {
    const event = createEvent({
      id: `${context.clientId}-${randomUUID()}`,
      source: `${context.broker}/${topic}`,
      type: context.eventType,
      subject: topic,
      time: nowTimestamp(),
      datacontenttype: contentType,
      data: payload,
    });
    for (const [name, value] of Object.entries(userProperties)) {
      if (EXTENSION_NAME.test(name) && !CONTEXT_ATTRIBUTES.has(name))
        event.extensions[name] = { value: { $case: "stringValue", value } };
    }
    if (invalid !== undefined)
      event.extensions.mqttinvalidcloudevent = { value: { $case: "stringValue", value: invalid } };
    result = { event, cloudEvent: "none", ...(invalid === undefined ? {} : { invalid }) };
  }
  const extensions = result.event.extensions;
  extensions.mqtttopic = { value: { $case: "stringValue", value: topic } };
  extensions.mqttqos = { value: { $case: "integerValue", value: packet.qos } };
  extensions.mqttretain = { value: { $case: "booleanValue", value: packet.retain } };
  extensions.mqttdup = { value: { $case: "booleanValue", value: packet.dup } };
  if (packet.messageId !== undefined)
    extensions.mqttpacketid = { value: { $case: "integerValue", value: packet.messageId } };
  return result;
}

/** MQTT 5 user properties as one value per name (a repeated name keeps its first value). */
function flatUserProperties(
  properties: Record<string, string | string[]> | undefined,
): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(properties ?? {})) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) flat[name] = first;
  }
  return flat;
}

function isStructured(contentType: string, payload: Buffer): boolean {
  const mediaType = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  if (mediaType === CLOUDEVENTS_JSON) return true;
  if (mediaType !== "" || payload.length === 0 || payload[0] !== 0x7b /* { */) return false;
  // No content type (always so on MQTT 3.1.1): a JSON object with specversion is a CloudEvent.
  try {
    const value = JSON.parse(payload.toString("utf8")) as unknown;
    return typeof value === "object" && value !== null && "specversion" in value;
  } catch {
    return false;
  }
}

function binaryCloudEvent(
  attributes: Record<string, string>,
  contentType: string,
  payload: Buffer,
): FlowEvent {
  if (attributes.specversion !== "1.0")
    throw new Error(`specversion must be "1.0" (found "${attributes.specversion}")`);
  const required = (name: string): string => {
    const value = attributes[name];
    if (!value) throw new Error(`a binary-mode CloudEvent needs the user property "${name}"`);
    return value;
  };
  const event = createEvent({
    id: required("id"),
    source: required("source"),
    type: required("type"),
    subject: attributes.subject,
    time: parseTime(attributes.time),
    datacontenttype: contentType || attributes.datacontenttype,
    dataschema: attributes.dataschema,
    data: payload,
  });
  for (const [name, value] of Object.entries(attributes)) {
    if (CONTEXT_ATTRIBUTES.has(name)) continue;
    if (!EXTENSION_NAME.test(name)) continue; // not a CloudEvents attribute: an ordinary user property
    event.extensions[name] = { value: { $case: "stringValue", value } };
  }
  return event;
}

function parseTime(text: string | undefined): FlowEvent["time"] {
  if (text === undefined || text === "") return undefined;
  try {
    return timestampFromRfc3339(text);
  } catch (error) {
    throw new Error(`time: ${(error as Error).message}`);
  }
}
