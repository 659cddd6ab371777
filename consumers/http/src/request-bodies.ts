import { attributeValueJson, cloudEventJsonLine, type FlowEvent, timestampToRfc3339 } from "@flow/sdk";
import { renderTemplate } from "./body-template";
import type { HttpConsumerConfig } from "./http-consumer-config";

/** One request to send: its body, and the headers its format adds. */
export interface RequestBody {
  /** The events it carries (for the reason of a refusal). */
  events: FlowEvent[];
  headers: Record<string, string>;
  body: string | Buffer;
}

/** The requests a batch becomes in the configured format: one for the batch, or one per event. */
export function requestBodies(events: FlowEvent[], config: HttpConsumerConfig): RequestBody[] {
  switch (config.format) {
    case "batch":
      return [
        {
          events,
          headers: { "content-type": "application/cloudevents-batch+json" },
          body: `[${events.map((event) => cloudEventJsonLine(event).trimEnd()).join(",")}]`,
        },
      ];
    case "event":
      return events.map((event) => ({
        events: [event],
        headers: { "content-type": "application/cloudevents+json" },
        body: cloudEventJsonLine(event),
      }));
    case "binary":
      return events.map((event) => ({ events: [event], headers: binaryHeaders(event), body: event.data }));
    case "template":
      return events.map((event) => ({
        events: [event],
        headers: { "content-type": "application/json" },
        body: renderTemplate(config.template, event),
      }));
  }
}

/** The CloudEvents HTTP binding's binary mode: ce-* headers, datacontenttype as Content-Type. */
function binaryHeaders(event: FlowEvent): Record<string, string> {
  const headers: Record<string, string> = {
    "ce-specversion": event.specversion || "1.0",
    "ce-id": headerValue(event.id),
    "ce-source": headerValue(event.source),
    "ce-type": headerValue(event.type),
  };
  if (event.subject) headers["ce-subject"] = headerValue(event.subject);
  if (event.time) headers["ce-time"] = timestampToRfc3339(event.time);
  if (event.dataschema) headers["ce-dataschema"] = headerValue(event.dataschema);
  if (event.datacontenttype) headers["content-type"] = event.datacontenttype;
  for (const [name, attribute] of Object.entries(event.extensions)) {
    if (attribute.value !== undefined && !(`ce-${name}` in headers))
      headers[`ce-${name}`] = headerValue(String(attributeValueJson(attribute.value)));
  }
  return headers;
}

/**
 * A header value as the HTTP binding writes it: space, `"`, `%` and everything outside printable
 * ASCII percent-encoded (as UTF-8).
 */
function headerValue(value: string): string {
  return value.replace(/[^\x21\x23\x24\x26-\x7e]/gu, (char) => encodeURIComponent(char));
}
