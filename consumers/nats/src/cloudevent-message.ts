import {
  type AttributeValue,
  CLOUDEVENT_JSON_MEMBERS,
  cloudEventJsonLine,
  type FlowEvent,
  timestampToRfc3339,
} from "@flow/sdk";
import { type MsgHdrs, headers as natsHeaders } from "nats";

export const STRUCTURED_CONTENT_TYPE = "application/cloudevents+json";

/** An event as a NATS message (CloudEvents NATS binding): headers and body, in the mode asked for. */
export function cloudEventMessage(
  event: FlowEvent,
  mode: "binary" | "structured",
): { headers: MsgHdrs; body: Uint8Array } {
  const headers = natsHeaders();
  if (mode === "structured") {
    headers.set("content-type", STRUCTURED_CONTENT_TYPE);
    return { headers, body: Buffer.from(cloudEventJsonLine(event).trimEnd(), "utf8") };
  }
  headers.set("ce-specversion", event.specversion || "1.0");
  headers.set("ce-id", event.id);
  headers.set("ce-source", event.source);
  headers.set("ce-type", event.type);
  if (event.subject) headers.set("ce-subject", event.subject);
  if (event.time) headers.set("ce-time", timestampToRfc3339(event.time));
  if (event.dataschema) headers.set("ce-dataschema", event.dataschema);
  if (event.datacontenttype) headers.set("content-type", event.datacontenttype);
  for (const [name, attribute] of Object.entries(event.extensions)) {
    if (attribute.value === undefined || CLOUDEVENT_JSON_MEMBERS.has(name)) continue;
    headers.set(`ce-${name}`, headerValue(attribute.value));
  }
  return { headers, body: event.data };
}

/** The CloudEvents string encoding of an attribute value (headers carry text only). */
function headerValue(value: AttributeValue): string {
  switch (value.$case) {
    case "booleanValue":
      return value.value ? "true" : "false";
    case "integerValue":
      return String(value.value);
    case "binaryValue":
      return value.value.toString("base64");
    case "timestampValue":
      return timestampToRfc3339(value.value);
    default:
      return value.value;
  }
}
