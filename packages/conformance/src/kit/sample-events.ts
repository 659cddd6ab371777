import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { createEvent } from "@flow/sdk";
import { Event } from "../gen/event/v1/event";
import type { EventSpec } from "./conform-config";

/**
 * A field number no Event defines, carried length-delimited: a service must pass it on untouched
 * (its runtime keeps unknown fields), or events written by a newer producer lose data in transit.
 */
export const UNKNOWN_FIELD_BYTES = Buffer.from(
  new BinaryWriter().tag(1000, WireType.LengthDelimited).string("flow-conform-unknown-field").finish(),
);

/** The events of the conformance config, ids made unique with `prefix`, each carrying an unknown field. */
export function sampleEvents(specs: EventSpec[], prefix: string): Event[] {
  return specs.map((spec, index) => {
    const event = createEvent({
      id: spec.id ?? `${prefix}-${index + 1}`,
      source: spec.source ?? "/flow/conform",
      type: spec.type ?? "com.example.conform",
      subject: spec.subject,
      datacontenttype: spec.datacontenttype,
      data: spec.dataText ?? spec.data,
    });
    return withUnknownField(event as unknown as Event);
  });
}

export function withUnknownField(event: Event): Event {
  return Event.decode(Buffer.concat([Event.encode(event).finish(), UNKNOWN_FIELD_BYTES]));
}

export function encodedEvent(event: Event): Buffer {
  return Buffer.from(Event.encode(event).finish());
}

export function carriesUnknownField(event: Event): boolean {
  return encodedEvent(event).includes(UNKNOWN_FIELD_BYTES);
}

/**
 * Where a batch as large as a limit carries its bulk. `extension`: an extension attribute of up to
 * 1 MiB per event, which a processor passes on whatever it does with the data. `data`: a
 * `conformpad` member of JSON object data (else an extension), events of 256 KiB, as real traffic
 * carries its bulk; a consumer's system may limit a message (NATS's 1 MiB max_payload) or a header
 * (an MQTT 5 user property holds 64 KiB) below what a batch may hold, and an event over such a
 * limit is a dead letter, not a test of the batch limit.
 */
export type Padding = "extension" | "data";

const PADDED_EVENT_BYTES: Record<Padding, number> = { extension: 1024 * 1024, data: 256 * 1024 };

/** Copies of `template` padded until the batch they form encodes to about `targetBytes`. */
export function paddedEvents(
  template: Event,
  targetBytes: number,
  prefix: string,
  padding: Padding = "extension",
): Event[] {
  const eventBytes = Math.min(PADDED_EVENT_BYTES[padding], targetBytes);
  const pad = padder(template, padding);
  const events: Event[] = [];
  let total = 0;
  for (let index = 0; total < targetBytes; index += 1) {
    const left = targetBytes - total;
    const want = Math.min(eventBytes, left);
    const base: Event = { ...template, id: `${prefix}-${index + 1}`, extensions: { ...template.extensions } };
    const overhead = encodedEvent(pad(base, "")).length + 32;
    if (want <= overhead) break;
    const event = pad(base, "p".repeat(want - overhead));
    const size = encodedEvent(event).length + 6;
    events.push(event);
    total += size;
  }
  return events;
}

/** How `paddedEvents` puts `text` into an event. */
function padder(template: Event, padding: Padding): (event: Event, text: string) => Event {
  const object = padding === "data" ? jsonObjectData(template) : undefined;
  if (object)
    return (event, text) => ({
      ...event,
      data: Buffer.from(JSON.stringify({ ...object, conformpad: text }), "utf8"),
    });
  return (event, text) => ({
    ...event,
    extensions: { ...event.extensions, conformpad: { value: { $case: "stringValue", value: text } } },
  });
}

function jsonObjectData(event: Event): Record<string, unknown> | undefined {
  if (!/^application\/(.+\+)?json\b/.test(event.datacontenttype ?? "")) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(event.data).toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
