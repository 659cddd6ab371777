/**
 * The members of a CloudEvent in the JSON format that are not extension attributes: the context
 * attributes a Flow event carries in its own fields, and the two members that hold the data.
 */
export const CLOUDEVENT_JSON_MEMBERS: ReadonlySet<string> = new Set([
  "specversion",
  "id",
  "source",
  "type",
  "subject",
  "time",
  "datacontenttype",
  "dataschema",
  "data",
  "data_base64",
]);
