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
 * Copies of `template` padded (in an extension attribute, which processors leave alone) until
 * the batch they form encodes to about `targetBytes`; no event above 1 MiB.
 */
export function paddedEvents(template: Event, targetBytes: number, prefix: string): Event[] {
  const eventBytes = Math.min(1024 * 1024, targetBytes);
  const events: Event[] = [];
  let total = 0;
  for (let index = 0; total < targetBytes; index += 1) {
    const left = targetBytes - total;
    const want = Math.min(eventBytes, left);
    const base: Event = { ...template, id: `${prefix}-${index + 1}`, extensions: { ...template.extensions } };
    const overhead = encodedEvent(base).length + 32;
    if (want <= overhead) break;
    const event: Event = {
      ...base,
      extensions: {
        ...base.extensions,
        conformpad: { value: { $case: "stringValue", value: "p".repeat(want - overhead) } },
      },
    };
    const size = encodedEvent(event).length + 6;
    events.push(event);
    total += size;
  }
  return events;
}
