import type { FlowEvent } from "./flow-event";
import type { CloudEvent } from "./gen/event/v2/event";

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

/**
 * The fields of an event v2 that this SDK's CloudEvent does not know (a newer minor's), kept on the
 * FlowEvent it became under this key, so a service passing the event on writes them back on v2: a
 * symbol, so event v1's encoder never writes v2 field numbers into a v1 message, while a spread
 * (`{ ...event, data }`) keeps them. Across majors they cannot be carried (v1 numbers differ).
 */
export const CLOUD_EVENT_UNKNOWN_FIELDS: unique symbol = Symbol("flow.cloudEventUnknownFields");

/** A FlowEvent that came from an event v2 with fields its CloudEvent does not know. */
export type CarriesCloudEventFields = FlowEvent & {
  [CLOUD_EVENT_UNKNOWN_FIELDS]?: CloudEvent["_unknownFields"];
};

/** The v2 fields `event` carries that this SDK does not know, if any. */
export function cloudEventUnknownFields(event: FlowEvent): CloudEvent["_unknownFields"] {
  return (event as CarriesCloudEventFields)[CLOUD_EVENT_UNKNOWN_FIELDS];
}
