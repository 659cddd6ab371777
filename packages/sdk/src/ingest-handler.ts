import * as grpc from "@grpc/grpc-js";
import { statusError } from "./component-handlers";
import type { IngestResponse } from "./gen/processor_service/v2/processor";
import type { PeerBatchFrame } from "./peer-batch-frame";
import type { PeerInbox } from "./peer-inbox";

/**
 * The call metadata in which an SDK upstream names the stream id its Ingest call carries, so that
 * the receiver knows of the stream from the call's start: should the call end before a batch
 * arrived (or with none), a reference into it is answered REF_MISSING rather than waited for. (Not
 * part of the contract: an upstream that leaves it out is known by its first batch.)
 */
export const PEER_STREAM_METADATA = "flow-peer-stream";

/**
 * The Ingest rpc of processor_service and consumer_service v2 (the direct data path): every
 * IngestRequest an upstream pushes (alone or in a bundle) goes into `inbox` under its reference, its
 * batch as the bytes it came in (the definition reads Ingest messages with readPeerBatches, see
 * event-wire.ts). The call ending, normally or not, tells the inbox that the streams it carried
 * bring nothing more.
 */
export function ingestHandler(
  inbox: PeerInbox,
): grpc.handleClientStreamingCall<PeerBatchFrame[], IngestResponse> {
  return (call, callback) => {
    const carried = new Set<string>();
    const carries = (stream: string): void => {
      if (carried.has(stream)) return;
      carried.add(stream);
      inbox.ingestOpened(stream);
    };
    for (const named of call.metadata.get(PEER_STREAM_METADATA))
      if (typeof named === "string" && named) carries(named);
    let batches = 0n;
    let over = false;
    const close = (): void => {
      if (over) return;
      over = true;
      for (const stream of carried) inbox.ingestEnded(stream);
    };
    const take = (pushed: PeerBatchFrame): boolean => {
      const ref = pushed.ref;
      if (!ref?.stream || ref.handle < 1n) {
        close();
        callback(
          statusError(
            grpc.status.INVALID_ARGUMENT,
            `Ingest: a IngestRequest needs a ref with a stream id and a handle from 1 (found ${ref ? `stream "${ref.stream}", handle ${ref.handle}` : "no ref"}): push each batch under the PeerRef you tell Core`,
          ),
        );
        return false;
      }
      carries(ref.stream);
      inbox.put(ref.stream, ref.handle, pushed.batch);
      batches += 1n;
      return true;
    };
    call.on("data", (requests: PeerBatchFrame[]) => {
      for (const pushed of requests) if (over || !take(pushed)) return;
    });
    call.on("end", () => {
      if (over) return;
      close();
      callback(null, { batches });
    });
    // Cancelled, broken or failed: whatever it did not carry never comes.
    call.on("close", close);
    call.on("error", close);
  };
}
