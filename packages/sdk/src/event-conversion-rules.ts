import type { FlowEvent } from "./flow-event";

// The rules of the conversion between event v1 and event v2 (the SDK README's "Contract majors")
// that both of its implementations follow: the object-based reference (event-conversion.ts) and
// the direct codec on the wire format (event-v2-codec.ts).

/**
 * The CloudEvents attributes v1 keeps in fields of their own (and `data`, which no attribute may
 * be called): in v2 `subject`, `time`, `datacontenttype` and `dataschema` are attributes, the
 * others fields. No extension may have one of these names (CloudEvents forbids it).
 */
export const FIELD_ATTRIBUTES: ReadonlySet<string> = new Set(["id", "source", "specversion", "type", "data"]);
const OPTIONAL_ATTRIBUTES: ReadonlySet<string> = new Set([
  "subject",
  "time",
  "datacontenttype",
  "dataschema",
]);

/** True for the names of CloudEvents context attributes (and `data`): no extension can have one. */
export function isContextAttribute(name: string): boolean {
  return FIELD_ATTRIBUTES.has(name) || OPTIONAL_ATTRIBUTES.has(name);
}

export const PROTOBUF_MEDIA_TYPE = "application/protobuf";

/** True when v2 carries the event's data as proto_data: application/protobuf with a dataschema. */
export function isProtobufData(event: FlowEvent): boolean {
  return event.dataschema !== "" && mediaTypeOf(event.datacontenttype) === PROTOBUF_MEDIA_TYPE;
}

// The events of a batch mostly share their content type: the last one asked is kept.
let lastContentType = "";
let lastMediaType = "";

/** The media type of a content type: lower case, without parameters. */
export function mediaTypeOf(contentType: string): string {
  if (contentType !== lastContentType) {
    lastMediaType = (contentType.split(";")[0] ?? "").trim().toLowerCase();
    lastContentType = contentType;
  }
  return lastMediaType;
}

/** The media types the CloudEvents Protobuf Format carries as text_data. */
export function isTextMediaType(mediaType: string): boolean {
  return (
    mediaType.startsWith("text/") ||
    mediaType === "application/json" ||
    mediaType.endsWith("+json") ||
    mediaType === "application/xml" ||
    mediaType.endsWith("+xml")
  );
}
