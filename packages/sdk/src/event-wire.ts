import type * as grpc from "@grpc/grpc-js";
import { fromCloudEvents, type RefusedEvent, toCloudEvent } from "./event-conversion";
import type { FlowEvent } from "./flow-event";
import type { CloudEvent } from "./gen/event/v2/event";
import { serviceNameOf } from "./service-server";

// A family contract's v2 carries the same messages as v1 with event v2 (CloudEvent) where v1 has
// event v1 (FlowEvent). The SDK serves v2 with the very handlers it serves v1 with: the v2
// definition's codec converts at the wire, events v2 to FlowEvents as a request is decoded and
// FlowEvents to events v2 as a response is encoded. Every family message that carries events has
// them in the `batch` member of its oneof (`request` or `response`): `batch.events`, and a
// processor's answer also `deadLetters[].event`.

interface EventParts {
  batch?: { events: unknown[] };
  deadLetters?: { event?: unknown }[];
}

type FamilyMessage = {
  request?: { $case: string; value: unknown };
  response?: { $case: string; value: unknown };
};

const REFUSED = Symbol("events v1 cannot carry");

/**
 * The v2 events a request brought that FlowEvent cannot carry, left out of its batch (see
 * event-conversion.ts): a processor dead-letters them, a consumer fails the batch naming them.
 * `batch` is the `value` of a request's `batch` member.
 */
export function refusedEventsOf(batch: object): readonly RefusedEvent[] {
  return (batch as { [REFUSED]?: RefusedEvent[] })[REFUSED] ?? [];
}

/** Each refused event's original, so its dead letter carries the event as it came. */
const originals = new WeakMap<FlowEvent, CloudEvent>();

/**
 * The major of a generated family definition, from its package: 2 for
 * `…processor_service.v2.ProcessorService`; 1 for a service whose package names none (served as
 * before majors: events as event v1).
 */
export function majorOf(definition: grpc.ServiceDefinition): number {
  const major = /\.v(\d+)\.[^.]+$/.exec(serviceNameOf(definition))?.[1];
  return major === undefined ? 1 : Number(major);
}

/**
 * A copy of a v2 family definition whose server side speaks FlowEvent: requests are decoded with
 * their events as FlowEvents, responses take FlowEvents and are encoded as events v2. (The
 * client side is left as generated.)
 */
export function withEventConversion(definition: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const copy: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [key, method] of Object.entries(definition)) {
    copy[key] = {
      ...method,
      requestDeserialize: (frame: Buffer) => readEvents(method.requestDeserialize(frame)),
      responseSerialize: (value: unknown) => method.responseSerialize(writeEvents(value)),
    };
  }
  return copy as grpc.ServiceDefinition;
}

function eventParts(part: FamilyMessage["request"]): EventParts | undefined {
  return part?.$case === "batch" ? (part.value as EventParts) : undefined;
}

/** The decoded request with its events as FlowEvents; the refused ones apart (refusedEventsOf). */
function readEvents(message: unknown): unknown {
  const value = eventParts((message as FamilyMessage).request);
  if (!value?.batch) return message;
  const events = value.batch.events as CloudEvent[];
  const converted = fromCloudEvents(events);
  value.batch.events = converted.events;
  if (converted.refused.length > 0) {
    for (const refused of converted.refused) {
      const original = events[refused.index];
      if (original) originals.set(refused.event, original);
    }
    (value as { [REFUSED]?: RefusedEvent[] })[REFUSED] = converted.refused;
  }
  return message;
}

/** The response to encode, its FlowEvents as events v2 (a copy: the handler's objects stay as they are). */
function writeEvents(message: unknown): unknown {
  const response = (message as FamilyMessage).response;
  const value = eventParts(response);
  if (!value) return message;
  const converted: EventParts = { ...value };
  if (value.batch)
    converted.batch = { ...value.batch, events: (value.batch.events as FlowEvent[]).map(toCloudEvent) };
  if (value.deadLetters)
    converted.deadLetters = value.deadLetters.map((letter) => ({
      ...letter,
      event:
        letter.event && (originals.get(letter.event as FlowEvent) ?? toCloudEvent(letter.event as FlowEvent)),
    }));
  return { ...(message as object), response: { ...response, value: converted } };
}
