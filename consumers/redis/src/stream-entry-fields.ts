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
  const fields: (string | Buffer)[] = [];
  appendStreamEntryFields(event, mode, fields);
  return fields;
}

/**
 * Appends the fields of `streamEntryFields` to `into` and returns how many it appended: a batch's
 * arguments are built in one array, with no array per event.
 */
export function appendStreamEntryFields(
  event: FlowEvent,
  mode: "binary" | "structured",
  into: (string | number | Buffer)[],
): number {
  const start = into.length;
  if (mode === "structured") {
    into.push(
      CONTENT_TYPE_FIELD,
      "application/cloudevents+json",
      DATA_FIELD,
      cloudEventJsonLine(event).trimEnd(),
    );
    return into.length - start;
  }
  into.push(
    "ce_specversion",
    event.specversion || "1.0",
    "ce_id",
    event.id,
    "ce_source",
    event.source,
    "ce_type",
    event.type,
  );
  if (event.subject) into.push("ce_subject", event.subject);
  if (event.time) into.push("ce_time", timestampToRfc3339(event.time));
  if (event.dataschema) into.push("ce_dataschema", event.dataschema);
  for (const name in event.extensions) {
    const value = event.extensions[name]?.value;
    if (value !== undefined) into.push(`ce_${name}`, String(attributeValueJson(value)));
  }
  if (event.datacontenttype) into.push(CONTENT_TYPE_FIELD, event.datacontenttype);
  into.push(DATA_FIELD, event.data);
  return into.length - start;
}
