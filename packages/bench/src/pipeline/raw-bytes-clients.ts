import * as grpc from "@grpc/grpc-js";
import { ConsumerServiceService, type WriteResponse } from "../gen/consumer_service/v1/consumer";
import { type ReadRequest, SourceServiceService } from "../gen/source_service/v1/source";

// Clients for the forwarding variant: the same RPC paths as the generated clients, but batches
// cross them as Buffers. Only the small control messages (credits, acks) are (de)serialized.

export interface RawSourceClient extends grpc.Client {
  read(): grpc.ClientDuplexStream<ReadRequest, Buffer>;
}

export interface RawConsumerClient extends grpc.Client {
  write(): grpc.ClientDuplexStream<Buffer, WriteResponse>;
}

const passBytes = (value: Buffer): Buffer => value;

const RawSourceClientConstructor = grpc.makeGenericClientConstructor(
  { read: { ...SourceServiceService.read, responseDeserialize: passBytes } },
  "flow.microservices.source_service.v1.SourceService",
);

const RawConsumerClientConstructor = grpc.makeGenericClientConstructor(
  { write: { ...ConsumerServiceService.write, requestSerialize: passBytes } },
  "flow.microservices.consumer_service.v1.ConsumerService",
);

export function rawSourceClient(address: string, credentials: grpc.ChannelCredentials): RawSourceClient {
  return new RawSourceClientConstructor(address, credentials) as unknown as RawSourceClient;
}

export function rawConsumerClient(address: string, credentials: grpc.ChannelCredentials): RawConsumerClient {
  return new RawConsumerClientConstructor(address, credentials) as unknown as RawConsumerClient;
}
