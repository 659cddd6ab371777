import type * as consumer from "../gen/consumer_service/v1/consumer";
import type { Event } from "../gen/event/v1/event";
import type * as processor from "../gen/processor_service/v1/processor";
import type * as source from "../gen/source_service/v1/source";
import type { KitEvent } from "./event-majors";

// Every major of a family contract has the same messages, field for field; only the events
// inside differ (event v1 in v1, event v2 in v2). The kit writes its checks once, on these types:
// v1's messages with their events of whichever major the stream speaks.

type Plain = Uint8Array | bigint | string | number | boolean | undefined | null;

/** A family message of any major: v1's shape, its events those of the stream's major. */
export type AnyMajor<T> = T extends Plain
  ? T
  : T extends Event
    ? KitEvent
    : T extends readonly (infer Item)[]
      ? AnyMajor<Item>[]
      : { [K in keyof T]: AnyMajor<T[K]> };

export type ProcessRequest = AnyMajor<processor.ProcessRequest>;
export type ProcessResponse = AnyMajor<processor.ProcessResponse>;
export type ProcessedBatch = AnyMajor<processor.ProcessedBatch>;
export type WriteRequest = AnyMajor<consumer.WriteRequest>;
export type WriteResponse = AnyMajor<consumer.WriteResponse>;
export type BatchAck = AnyMajor<consumer.BatchAck>;
export type ReadRequest = AnyMajor<source.ReadRequest>;
export type ReadResponse = AnyMajor<source.ReadResponse>;
export type SourceBatch = AnyMajor<source.SourceBatch>;
/** A batch of events of one major. */
export interface KitEventBatch {
  events: KitEvent[];
}
