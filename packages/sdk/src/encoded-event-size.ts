import type { FlowEvent } from "./flow-event";
import { type Event, EventBatch } from "./gen/event/v1/event";

/**
 * How many bytes `event` adds to an encoded EventBatch: its own encoding plus the field's tag and
 * length. A source that cuts its batches to ReadContext.maxBatchBytes sums these (a batch's size
 * is exactly the sum). It encodes the event, so a source that can bound its events' size more
 * cheaply (e.g. by the bytes it read) should do that instead.
 */
export function encodedEventBytes(event: FlowEvent): number {
  return EventBatch.encode({ events: [event as Event] }).finish().length;
}
