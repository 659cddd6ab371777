import { createHash } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import {
  CLOUDEVENT_ATTRIBUTE_NAME,
  CLOUDEVENT_JSON_MEMBERS,
  cloudEventFromJson,
  cloudEventsFromJsonBatch,
  createEvent,
  type FlowEvent,
  InvalidCloudEventError,
  isJsonContentType,
  nowTimestamp,
  timestampFromRfc3339,
} from "@flow/sdk";
import { badRequest, RejectedRequest } from "./rejected-request";

export const STRUCTURED_MEDIA_TYPE = "application/cloudevents+json";
export const BATCH_MEDIA_TYPE = "application/cloudevents-batch+json";

/** What the source says about plain JSON events (those that are not CloudEvents). */
export interface PlainEventShape {
  source: string;
  type: string;
  /** JSON Pointer to each event's id; undefined: Idempotency-Key or a hash of the body. */
  idPointer?: string;
}

/**
 * The events of one POST, by the CloudEvents HTTP binding: binary mode (a `ce-specversion` header,
 * the other attributes in `ce-*` headers, the body as data, its Content-Type as datacontenttype),
 * structured mode (`application/cloudevents+json`), a batch (`application/cloudevents-batch+json`,
 * a JSON array of CloudEvents); anything else JSON is plain: one event, or one per element of an
 * array. Throws RejectedRequest (400 with the reason, 415) for what cannot be taken whole: one bad
 * event refuses the request, so a request is never half accepted.
 */
export function requestEvents(
  headers: IncomingHttpHeaders,
  body: Buffer,
  shape: PlainEventShape,
): FlowEvent[] {
  const contentType = header(headers, "content-type") ?? "";
  const mediaType = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  if (header(headers, "ce-specversion") !== undefined) return [binaryCloudEvent(headers, contentType, body)];
  if (mediaType === STRUCTURED_MEDIA_TYPE)
    return cloudEventsOrBadRequest(() => [
      cloudEventFromJson(parseJson(body), body.toString("utf8"), "the event"),
    ]);
  if (mediaType === BATCH_MEDIA_TYPE) {
    const value = parseJson(body);
    if (!Array.isArray(value)) throw badRequest(`a ${BATCH_MEDIA_TYPE} body must be a JSON array`);
    return cloudEventsOrBadRequest(() => cloudEventsFromJsonBatch(value, body.toString("utf8")));
  }
  if (mediaType === "" || !isJsonContentType(mediaType))
    throw new RejectedRequest(
      415,
      `unsupported Content-Type "${contentType}": send application/json, ${STRUCTURED_MEDIA_TYPE}, ${BATCH_MEDIA_TYPE}, or a binary-mode CloudEvent (ce-* headers)`,
    );
  return plainEvents(headers, body, shape);
}

function plainEvents(headers: IncomingHttpHeaders, body: Buffer, shape: PlainEventShape): FlowEvent[] {
  const value = parseJson(body);
  const time = nowTimestamp();
  // Stable across the sender's retries of the same body, so an idempotent sink keeps one copy.
  const base =
    header(headers, "idempotency-key") ?? createHash("sha256").update(body).digest("hex").slice(0, 32);
  const event = (element: unknown, data: Buffer, index: number | undefined): FlowEvent =>
    createEvent({
      id:
        shape.idPointer === undefined
          ? index === undefined
            ? base
            : `${base}-${index}`
          : pointedId(element, shape.idPointer, index === undefined ? "the event" : `event ${index}`),
      source: shape.source,
      type: shape.type,
      time,
      datacontenttype: "application/json",
      data,
    });
  if (!Array.isArray(value)) return [event(value, body, undefined)];
  return value.map((element, index) => event(element, Buffer.from(JSON.stringify(element), "utf8"), index));
}

/** The id at a JSON Pointer (RFC 6901) of a plain event: a non-empty string or a number. */
function pointedId(value: unknown, pointer: string, where: string): string {
  let current: unknown = value;
  for (const raw of pointer.split("/").slice(1)) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    current =
      typeof current === "object" && current !== null ? (current as Record<string, unknown>)[key] : undefined;
  }
  if ((typeof current === "string" && current !== "") || typeof current === "number") return String(current);
  throw badRequest(`${where} has no id at ${pointer} (a non-empty string or a number)`);
}

function binaryCloudEvent(headers: IncomingHttpHeaders, contentType: string, body: Buffer): FlowEvent {
  const attributes = new Map<string, string>();
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith("ce-") || value === undefined) continue;
    attributes.set(name.slice(3), percentDecoded(Array.isArray(value) ? value.join(",") : value, name));
  }
  const where = "the binary-mode event";
  if (attributes.get("specversion") !== "1.0")
    throw badRequest(`ce-specversion must be "1.0" (found "${attributes.get("specversion")}")`);
  const required = (name: string): string => {
    const value = attributes.get(name);
    if (!value) throw badRequest(`${where} has no ce-${name} header`);
    return value;
  };
  const event = createEvent({
    id: required("id"),
    source: required("source"),
    type: required("type"),
    subject: attributes.get("subject"),
    time: timeOf(attributes.get("time"), where),
    datacontenttype: contentType,
    dataschema: attributes.get("dataschema"),
    data: body,
  });
  for (const [name, value] of attributes) {
    if (CLOUDEVENT_JSON_MEMBERS.has(name)) continue;
    if (!CLOUDEVENT_ATTRIBUTE_NAME.test(name))
      throw badRequest(`ce-${name} is not a CloudEvents attribute name (a-z, 0-9)`);
    event.extensions[name] = { value: { $case: "stringValue", value } };
  }
  return event;
}

/** Events of the CloudEvents JSON format; what is not a CloudEvent refuses the request with a 400 saying why. */
function cloudEventsOrBadRequest(read: () => FlowEvent[]): FlowEvent[] {
  try {
    return read();
  } catch (error) {
    if (error instanceof InvalidCloudEventError) throw badRequest(error.message);
    throw error;
  }
}

/** An RFC 3339 `time`, or a 400 saying where it is wrong. */
function timeOf(text: string | undefined, where: string): FlowEvent["time"] {
  if (text === undefined) return undefined;
  try {
    return timestampFromRfc3339(text);
  } catch (error) {
    throw badRequest(`${where}: time: ${(error as Error).message}`);
  }
}

/** The HTTP binding percent-encodes header values outside printable ASCII (and `%`, `"`, space). */
function percentDecoded(value: string, name: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw badRequest(`the ${name} header is not validly percent-encoded`);
  }
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch (error) {
    throw badRequest(`the body is not JSON: ${(error as Error).message}`);
  }
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(",") : value;
}
