import { attributeValueJson } from "./attribute-value-json";
import { CLOUDEVENT_JSON_MEMBERS } from "./cloudevent-json-members";
import { type FlowEvent, timestampToRfc3339 } from "./flow-event";
import { isJsonContentType } from "./json-content-type";

/**
 * One event as one line of JSON in the CloudEvents JSON format, newline included. A JSON payload is
 * embedded as it is - not parsed and re-serialised, which would round big integers - in `data`;
 * any other payload goes to `data_base64`. Absent optional attributes are left out.
 */
export function cloudEventJsonLine(event: FlowEvent): string {
  const head: Record<string, unknown> = {
    specversion: event.specversion || "1.0",
    id: event.id,
    source: event.source,
    type: event.type,
  };
  if (event.subject) head.subject = event.subject;
  if (event.time) head.time = timestampToRfc3339(event.time);
  if (event.datacontenttype) head.datacontenttype = event.datacontenttype;
  if (event.dataschema) head.dataschema = event.dataschema;
  for (const [name, attribute] of Object.entries(event.extensions)) {
    // An extension may not shadow a context attribute; CloudEvents forbids the names anyway.
    if (attribute.value !== undefined && !CLOUDEVENT_JSON_MEMBERS.has(name))
      head[name] = attributeValueJson(attribute.value);
  }
  if (event.data.length === 0) return `${JSON.stringify(head)}\n`;
  const json = jsonText(event);
  if (json !== undefined) return `${JSON.stringify(head).slice(0, -1)},"data":${json}}\n`;
  head.data_base64 = event.data.toString("base64");
  return `${JSON.stringify(head)}\n`;
}

/** The payload as single-line JSON text, or undefined when it is not JSON. */
function jsonText(event: FlowEvent): string | undefined {
  if (!isJsonContentType(event.datacontenttype)) return undefined;
  const text = event.data.toString("utf8");
  try {
    JSON.parse(text);
  } catch {
    return undefined;
  }
  // In valid JSON a raw line break can only be whitespace between tokens (inside strings it is
  // escaped), so replacing it keeps the value and keeps the event on one line.
  return text.replace(/[\r\n]+/g, " ");
}
