import * as peer from "../../gen/peer/v1/peer";
import { type ContractSamples, samplesOf } from "./contract-samples";

const { Peer, PeerRef } = peer;

export const samplePeerRef = PeerRef.fromPartial({
  stream: "3f2b9c1e-7d4a-4e8b-9a61-0c5d2e8f1a77",
  handle: 2n ** 64n - 1n,
});

export const samplePeer = Peer.fromPartial({
  stageId: "enrich",
  address: "127.0.0.1:50123",
  maxBatchSize: 4_294_967_295,
  maxBatchBytes: 2n ** 53n + 1n,
  ingestMethod: "/flow.microservices.processor_service.v2.ProcessorService/Ingest",
  bundles: true,
});

export const peerSamples: ContractSamples = {
  contract: "peer/v1",
  module: peer,
  samples: {
    PeerRef: samplesOf(PeerRef, samplePeerRef, PeerRef.fromPartial({ stream: "s", handle: 1n })),
    Peer: samplesOf(
      Peer,
      samplePeer,
      Peer.fromPartial({
        stageId: "sink",
        address: "unix:/run/flow/sink.sock",
        ingestMethod: "/flow.microservices.consumer_service.v2.ConsumerService/Ingest",
      }),
    ),
  },
};
