import { attributeValueJson, type FlowEvent, isJsonContentType, timestampToRfc3339 } from "@flow/sdk";

/** A value bound to a statement parameter: text, a number, a boolean, bytes or SQL NULL. */
export type SqlValue = string | number | boolean | Buffer | null;

/**
 * The fixed columns of an event's row when no `columns` mapping is configured, in this order:
 * - `id`, `type`, `source`: the CloudEvents attributes;
 * - `time`: RFC 3339 in UTC, cut (not rounded) to microseconds, the precision of both databases;
 * - `attributes`: JSON, every other attribute as in the CloudEvents JSON format (specversion,
 *   subject, datacontenttype, dataschema and the extensions, binary extensions as base64);
 * - `data`: the payload as JSON when it is JSON, or a JSON string when it is text (`text/*`, UTF-8);
 * - `data_binary`: the payload's bytes when it is neither (then `data` is NULL). An empty payload
 *   leaves both NULL.
 */
export const EVENT_COLUMNS = ["id", "type", "source", "time", "attributes", "data", "data_binary"] as const;
export type EventColumn = (typeof EVENT_COLUMNS)[number];

const UTF8 = new TextDecoder("utf-8", { fatal: true });

export function eventColumnValues(event: FlowEvent): SqlValue[] {
  const payload = payloadValues(event);
  return [
    event.id,
    event.type,
    event.source,
    event.time ? microsecondTime(timestampToRfc3339(event.time)) : null,
    JSON.stringify(otherAttributes(event)),
    payload.json,
    payload.bytes,
  ];
}

/** `2026-01-02T03:04:05.123456789Z` -> `2026-01-02T03:04:05.123456Z`. */
export function microsecondTime(rfc3339: string): string {
  return rfc3339.replace(/(\.\d{6})\d+Z$/, "$1Z");
}

function otherAttributes(event: FlowEvent): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = { specversion: event.specversion };
  if (event.subject) out.subject = event.subject;
  if (event.datacontenttype) out.datacontenttype = event.datacontenttype;
  if (event.dataschema) out.dataschema = event.dataschema;
  for (const [name, attribute] of Object.entries(event.extensions)) {
    if (attribute.value !== undefined) out[name] = attributeValueJson(attribute.value);
  }
  return out;
}

function payloadValues(event: FlowEvent): { json: string | null; bytes: Buffer | null } {
  if (event.data.length === 0) return { json: null, bytes: null };
  const text = utf8(event.data);
  if (text !== undefined && isJsonContentType(event.datacontenttype)) {
    try {
      JSON.parse(text);
      return { json: text, bytes: null };
    } catch {
      // Declared JSON but it is not: keep the bytes exactly as they came.
    }
  } else if (text !== undefined && event.datacontenttype.toLowerCase().startsWith("text/")) {
    return { json: JSON.stringify(text), bytes: null };
  }
  return { json: null, bytes: Buffer.from(event.data) };
}

function utf8(bytes: Buffer): string | undefined {
  try {
    return UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}
