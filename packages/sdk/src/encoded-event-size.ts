import { type EventMajor, toCloudEvent } from "./event-conversion";
import type { FlowEvent } from "./flow-event";
import { type Event, EventBatch } from "./gen/event/v1/event";
import { CloudEventBatch } from "./gen/event/v2/event";

/**
 * How many bytes `event` adds to an encoded EventBatch (major 1), or to an encoded CloudEventBatch
 * once converted (major 2): its own encoding plus the field's tag and length. A source that cuts
 * its batches to ReadContext.maxBatchBytes sums these (a batch's size is exactly the sum) in the
 * major of its stream (ReadContext.eventMajor). It encodes the event, so a source that can bound
 * its events' size more cheaply (e.g. by the bytes it read) should do that instead.
 */
export function encodedEventBytes(event: FlowEvent, options?: { major?: EventMajor }): number {
  if (options?.major === 2) return CloudEventBatch.encode({ events: [toCloudEvent(event)] }).finish().length;
  return EventBatch.encode({ events: [event as Event] }).finish().length;
}
