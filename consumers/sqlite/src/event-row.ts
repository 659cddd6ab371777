import { attributeValueJson, type FlowEvent, isJsonContentType, timestampToRfc3339 } from "@flow/sdk";

/** The columns of one event's row, in the order of EVENT_COLUMNS. */
export interface EventRow {
  id: string;
  source: string;
  type: string;
  subject: string | null;
  /** RFC 3339 with nine fractional digits, UTC: sorts as text in time order. */
  time: string | null;
  datacontenttype: string | null;
  dataschema: string | null;
  /** The extension attributes as a JSON object, as in the CloudEvents JSON format. */
  extensions: string | null;
  /** JSON text for JSON payloads (queryable with json_extract), text for text, a BLOB otherwise. */
  data: string | Buffer | null;
}

export const EVENT_COLUMNS = [
  "id",
  "source",
  "type",
  "subject",
  "time",
  "datacontenttype",
  "dataschema",
  "extensions",
  "data",
] as const;

const UTF8 = new TextDecoder("utf-8", { fatal: true });

export function eventRow(event: FlowEvent): EventRow {
  return {
    id: event.id,
    source: event.source,
    type: event.type,
    subject: event.subject || null,
    time: event.time ? timestampToRfc3339(event.time) : null,
    datacontenttype: event.datacontenttype || null,
    dataschema: event.dataschema || null,
    extensions: extensionsJson(event.extensions),
    data: dataValue(event),
  };
}

function dataValue(event: FlowEvent): string | Buffer | null {
  if (event.data.length === 0) return null;
  const text = utf8(event.data);
  if (text === undefined) return Buffer.from(event.data);
  if (isJsonContentType(event.datacontenttype)) {
    try {
      JSON.parse(text);
      return text;
    } catch {
      // Declared JSON but is not: keep the bytes exactly as they came.
      return Buffer.from(event.data);
    }
  }
  return event.datacontenttype.toLowerCase().startsWith("text/") ? text : Buffer.from(event.data);
}

function utf8(bytes: Buffer): string | undefined {
  try {
    return UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

function extensionsJson(extensions: FlowEvent["extensions"]): string | null {
  const out: Record<string, string | number | boolean> = {};
  for (const [name, attribute] of Object.entries(extensions)) {
    if (attribute.value !== undefined) out[name] = attributeValueJson(attribute.value);
  }
  return Object.keys(out).length === 0 ? null : JSON.stringify(out);
}
