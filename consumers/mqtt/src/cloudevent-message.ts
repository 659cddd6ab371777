import { attributeValueJson, cloudEventJsonLine, type FlowEvent, timestampToRfc3339 } from "@flow/sdk";

export const CLOUDEVENTS_JSON = "application/cloudevents+json";

/** What one event is published as: payload and MQTT 5 properties (CloudEvents MQTT binding). */
export interface EventMessage {
  /** The event's id, for a refusal's reason. */
  eventId: string;
  payload: Buffer;
  contentType?: string;
  userProperties?: Record<string, string>;
}

/**
 * Binary mode: the data as payload, datacontenttype as the MQTT 5 Content Type, every other
 * attribute as a user property named as the attribute. Structured mode: the event in the
 * CloudEvents JSON format as payload, with Content Type application/cloudevents+json on MQTT 5
 * (MQTT 3.1.1 has no content type: the receiver knows the format).
 */
export function eventMessage(
  event: FlowEvent,
  mode: "binary" | "structured",
  protocolVersion: 4 | 5,
): EventMessage {
  if (mode === "structured") {
    const payload = Buffer.from(cloudEventJsonLine(event).trimEnd(), "utf8");
    return protocolVersion === 5
      ? { eventId: event.id, payload, contentType: CLOUDEVENTS_JSON }
      : { eventId: event.id, payload };
  }
  const properties: Record<string, string> = {
    specversion: event.specversion || "1.0",
    id: event.id,
    source: event.source,
    type: event.type,
  };
  if (event.subject) properties.subject = event.subject;
  if (event.time) properties.time = timestampToRfc3339(event.time);
  if (event.dataschema) properties.dataschema = event.dataschema;
  for (const [name, attribute] of Object.entries(event.extensions)) {
    if (attribute.value !== undefined && !(name in properties))
      properties[name] = String(attributeValueJson(attribute.value));
  }
  return {
    eventId: event.id,
    payload: event.data,
    ...(event.datacontenttype ? { contentType: event.datacontenttype } : {}),
    userProperties: properties,
  };
}
