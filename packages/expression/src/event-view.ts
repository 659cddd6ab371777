import { attributeValueJson, type FlowEvent, isJsonContentType, timestampToRfc3339 } from "@flow/sdk";

/** Reading `data` of an event whose payload is not JSON. */
export class PayloadNotJsonError extends Error {
  override name = "PayloadNotJsonError";
}

/** What an expression sees of an event: its CloudEvents attributes as JSON, and `data` parsed. */
export interface EventView {
  id: string;
  source: string;
  specversion: string;
  type: string;
  subject?: string;
  /** RFC 3339, nanosecond precision. */
  time?: string;
  datacontenttype?: string;
  dataschema?: string;
  extensions: Record<string, string | number | boolean>;
  /** The JSON payload; undefined when the event has none. */
  readonly data: unknown;
}

/**
 * The event as the input of an expression. Absent attributes are left out, so an expression tests
 * them with `$exists(subject)`. `data` is parsed on first use: an expression that never reads it
 * works on any payload, and one that reads a payload which is not JSON fails for that event only.
 */
export function eventView(event: FlowEvent): EventView {
  const view: Omit<EventView, "data"> = {
    id: event.id,
    source: event.source,
    specversion: event.specversion,
    type: event.type,
    extensions: extensionsView(event.extensions),
  };
  if (event.subject) view.subject = event.subject;
  if (event.time) view.time = timestampToRfc3339(event.time);
  if (event.datacontenttype) view.datacontenttype = event.datacontenttype;
  if (event.dataschema) view.dataschema = event.dataschema;
  let parsed: { value: unknown } | undefined;
  return Object.defineProperty(view, "data", {
    enumerable: true,
    get() {
      parsed ??= { value: parsePayload(event) };
      return parsed.value;
    },
  }) as EventView;
}

function parsePayload(event: FlowEvent): unknown {
  if (event.data.length === 0) return undefined;
  if (!isJsonContentType(event.datacontenttype)) {
    throw new PayloadNotJsonError(`the payload is ${event.datacontenttype}, not JSON`);
  }
  try {
    return JSON.parse(event.data.toString("utf8"));
  } catch (error) {
    throw new PayloadNotJsonError(`the payload is not valid JSON: ${(error as Error).message}`);
  }
}

function extensionsView(extensions: FlowEvent["extensions"]): EventView["extensions"] {
  const out: EventView["extensions"] = {};
  for (const [name, attribute] of Object.entries(extensions)) {
    const value = attribute.value;
    if (value !== undefined) out[name] = attributeValueJson(value);
  }
  return out;
}
