import { attributeValueJson, cloudEventJsonLine, type FlowEvent, timestampToRfc3339 } from "@flow/sdk";

/** The field holding the payload, and the one holding its media type. */
export const DATA_FIELD = "data";
export const CONTENT_TYPE_FIELD = "content-type";

/**
 * An event as the fields of one stream entry, in the order XADD takes them (name, value, ...).
 * binary: `ce_<attribute>` per CloudEvents attribute that is set (extensions as their CloudEvents
 * JSON text, so an integer 7 becomes "7"), `content-type` for datacontenttype and `data` with the
 * payload bytes as they are. structured: `content-type: application/cloudevents+json` and the
 * CloudEvents JSON of the event in `data`. @flow/source-redis reads both back as the same event.
 */
export function streamEntryFields(event: FlowEvent, mode: "binary" | "structured"): (string | Buffer)[] {
  if (mode === "structured")
    return [
      CONTENT_TYPE_FIELD,
      "application/cloudevents+json",
      DATA_FIELD,
      cloudEventJsonLine(event).trimEnd(),
    ];
  const fields: (string | Buffer)[] = [
    "ce_specversion",
    event.specversion || "1.0",
    "ce_id",
    event.id,
    "ce_source",
    event.source,
    "ce_type",
    event.type,
  ];
  if (event.subject) fields.push("ce_subject", event.subject);
  if (event.time) fields.push("ce_time", timestampToRfc3339(event.time));
  if (event.dataschema) fields.push("ce_dataschema", event.dataschema);
  for (const [name, attribute] of Object.entries(event.extensions)) {
    if (attribute.value !== undefined) fields.push(`ce_${name}`, String(attributeValueJson(attribute.value)));
  }
  if (event.datacontenttype) fields.push(CONTENT_TYPE_FIELD, event.datacontenttype);
  fields.push(DATA_FIELD, event.data);
  return fields;
}
