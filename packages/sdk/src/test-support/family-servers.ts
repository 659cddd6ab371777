import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import type { ContractVersion } from "../component";
import { type ConsumerDefinition, consumerImplementation } from "../consumer";
import { ConsumerServiceClient, ConsumerServiceService } from "../gen/consumer_service/v1/consumer";
import { ProcessorServiceClient, ProcessorServiceService } from "../gen/processor_service/v1/processor";
import { SourceServiceClient, SourceServiceService } from "../gen/source_service/v1/source";
import { type ProcessorDefinition, processorImplementation } from "../processor";
import { ServiceServer } from "../service-server";
import { type SourceDefinition, sourceImplementation } from "../source";

/** The SDK package's own proto/ folder: the contracts its tests speak, and what reflection lists. */
export const SDK_PROTO_DIR = join(__dirname, "..", "..", "proto");

/** A family server on an OS-chosen port and a generated client connected to it. */
export interface Running<Client extends grpc.Client> {
  server: ServiceServer;
  client: Client;
  /** Closes the client, then stops the server (gracefully unless it already stopped). */
  close(): Promise<void>;
}

function contract(name: string): ContractVersion {
  return { name, major: 1, minor: 0, patch: 0 };
}

async function run<Client extends grpc.Client>(
  definition: grpc.ServiceDefinition,
  implement: (server: ServiceServer) => grpc.UntypedServiceImplementation,
  connect: (address: string) => Client,
  serverOptions?: grpc.ServerOptions,
): Promise<Running<Client>> {
  const server = await ServiceServer.start({
    services: [{ definition, implementation: implement }],
    protoDir: SDK_PROTO_DIR,
    serverOptions,
  });
  const client = connect(server.address);
  return {
    server,
    client,
    close: async () => {
      client.close();
      await server.stop(2_000);
    },
  };
}

const insecure = (): grpc.ChannelCredentials => grpc.credentials.createInsecure();

export function runSource<Config>(
  definition: SourceDefinition<Config>,
): Promise<Running<SourceServiceClient>> {
  return run(
    SourceServiceService,
    (server) => sourceImplementation(definition, contract("source_service"), server),
    (address) => new SourceServiceClient(address, insecure()),
  );
}

export function runProcessor<Config, State>(
  definition: ProcessorDefinition<Config, State>,
): Promise<Running<ProcessorServiceClient>> {
  return run(
    ProcessorServiceService,
    (server) => processorImplementation(definition, contract("processor_service"), server),
    (address) => new ProcessorServiceClient(address, insecure()),
  );
}

export function runConsumer<Config>(
  definition: ConsumerDefinition<Config>,
  serverOptions?: grpc.ServerOptions,
): Promise<Running<ConsumerServiceClient>> {
  return run(
    ConsumerServiceService,
    (server) => consumerImplementation(definition, contract("consumer_service"), server),
    (address) => new ConsumerServiceClient(address, insecure()),
    serverOptions,
  );
}
