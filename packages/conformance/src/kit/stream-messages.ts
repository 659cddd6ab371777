import type * as consumer from "../gen/consumer_service/v1/consumer";
import type * as consumerV2 from "../gen/consumer_service/v2/consumer";
import type { Event } from "../gen/event/v1/event";
import type * as processor from "../gen/processor_service/v1/processor";
import type * as processorV2 from "../gen/processor_service/v2/processor";
import type * as source from "../gen/source_service/v1/source";
import type * as sourceV2 from "../gen/source_service/v2/source";
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
/** v2.1's fields of the direct data path on a message (absent at v1 and on an answer without them). */
type Direct<V2, Fields extends keyof V2> = { [K in Fields]?: AnyMajor<V2[K]> };

export type ProcessedBatch = AnyMajor<processor.ProcessedBatch> &
  Direct<processorV2.ProcessedBatch, "outputRef" | "outputCount" | "outputBytes" | "returned" | "refMissing">;
export type WriteRequest = AnyMajor<consumer.WriteRequest>;
export type WriteResponse = AnyMajor<consumer.WriteResponse>;
export type BatchAck = AnyMajor<consumer.BatchAck> & Direct<consumerV2.BatchAck, "returned" | "refMissing">;
export type ReadRequest = AnyMajor<source.ReadRequest>;
export type ReadResponse = AnyMajor<source.ReadResponse>;
export type SourceBatch = AnyMajor<source.SourceBatch> &
  Direct<sourceV2.SourceBatch, "ref" | "eventCount" | "batchBytes">;

/** A batch named by reference (v2.1), on a Process or Write stream: its events were pushed to Ingest. */
export interface ByRefRequest {
  request: {
    $case: "batch";
    value: Pick<processorV2.InputBatch & consumerV2.WriteBatch, "sequence" | "ref">;
  };
}
/** One batch a service's Ingest takes (v2.1), its events the kit's. */
export type IngestBatch = Pick<processorV2.IngestRequest, "ref"> & { batch?: KitEventBatch };
/** What a service's Ingest takes: one batch, or (v2.3) several in one bundle. */
export type IngestRequest = IngestBatch | { bundle: { requests: IngestBatch[] } };
/** The peers a Read or Process stream's start names (v2.1). */
export type StartPeers = Pick<sourceV2.ReadStart & processorV2.ProcessStart, "peers">;
/** A batch of events of one major. */
export interface KitEventBatch {
  events: KitEvent[];
}
