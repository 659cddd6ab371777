import type { Peer } from "../../gen/peer/v1/peer";

/** A peer as Core names one in a start message: consumer `stageId` at `address`, taking 100 events or 1000 bytes. */
export function samplePeer(stageId = "sink", address = "127.0.0.1:3"): Peer {
  return {
    stageId,
    address,
    maxBatchSize: 100,
    maxBatchBytes: 1000n,
    ingestMethod: "/flow.microservices.consumer_service.v2.ConsumerService/Ingest",
    bundles: false,
  };
}
