import { type FamilyName, FLOW_CHANNEL_OPTIONS } from "@flow/sdk/internal";
import * as grpc from "@grpc/grpc-js";
import type { ComponentDescriptor } from "../gen/component/v1/component";
import { ConsumerServiceClient } from "../gen/consumer_service/v1/consumer";
import { ProcessorServiceClient } from "../gen/processor_service/v1/processor";
import { SourceServiceClient } from "../gen/source_service/v1/source";

/** The fully qualified gRPC service of each family contract (v1). */
export const FAMILY_SERVICE: Record<FamilyName, string> = {
  source: "flow.microservices.source_service.v1.SourceService",
  processor: "flow.microservices.processor_service.v1.ProcessorService",
  consumer: "flow.microservices.consumer_service.v1.ConsumerService",
};

export interface FamilyClients {
  source: SourceServiceClient;
  processor: ProcessorServiceClient;
  consumer: ConsumerServiceClient;
}

/**
 * The kit's channels each keep their own subchannels. grpc-js otherwise shares one per address
 * across a process, and the kit starts a service again and again: a new service that got the
 * port of one the kit just killed would be dialled through the dead one's subchannel, still in
 * its reconnect backoff, and a call would fail at once with "No connection established".
 */
export const KIT_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  ...FLOW_CHANNEL_OPTIONS,
  "grpc.use_local_subchannel_pool": 1,
};

export function familyClient<F extends FamilyName>(family: F, target: string): FamilyClients[F] {
  const constructors = {
    source: SourceServiceClient,
    processor: ProcessorServiceClient,
    consumer: ConsumerServiceClient,
  };
  return new constructors[family](
    target,
    grpc.credentials.createInsecure(),
    KIT_CHANNEL_OPTIONS,
  ) as FamilyClients[F];
}

interface UnaryClient {
  describe(
    request: object,
    metadata: grpc.Metadata,
    options: Partial<grpc.CallOptions>,
    callback: (error: grpc.ServiceError | null, response: { component?: ComponentDescriptor }) => void,
  ): unknown;
  configure(
    request: { configJson: string; validateOnly: boolean; stageId: string },
    metadata: grpc.Metadata,
    options: Partial<grpc.CallOptions>,
    callback: (
      error: grpc.ServiceError | null,
      response: { accepted: boolean; issues: { path: string; message: string; severity: number }[] },
    ) => void,
  ): unknown;
}

const deadline = (ms: number): Partial<grpc.CallOptions> => ({ deadline: new Date(Date.now() + ms) });

/** Describe on the family's contract. */
export function describe(
  family: FamilyName,
  target: string,
  timeoutMs: number,
): Promise<ComponentDescriptor> {
  const client = familyClient(family, target);
  return new Promise<ComponentDescriptor>((resolve, reject) =>
    (client as unknown as UnaryClient).describe(
      {},
      new grpc.Metadata(),
      deadline(timeoutMs),
      (error, response) =>
        error
          ? reject(error)
          : response.component
            ? resolve(response.component)
            : reject(new Error("Describe answered no component")),
    ),
  ).finally(() => client.close());
}

export interface ConfigureAnswer {
  accepted: boolean;
  issues: { path: string; message: string; severity: number }[];
}

/** Configure with validate_only on the family's contract. */
export function validateConfig(
  family: FamilyName,
  target: string,
  config: unknown,
  timeoutMs: number,
): Promise<ConfigureAnswer> {
  const client = familyClient(family, target);
  return new Promise<ConfigureAnswer>((resolve, reject) =>
    (client as unknown as UnaryClient).configure(
      { configJson: JSON.stringify(config), validateOnly: true, stageId: "conform" },
      new grpc.Metadata(),
      deadline(timeoutMs),
      (error, response) => (error ? reject(error) : resolve(response)),
    ),
  ).finally(() => client.close());
}

/** Which family a Describe's `family` enum names (1 source, 2 processor, 3 consumer). */
export function familyOfEnum(value: number): FamilyName | undefined {
  return (["source", "processor", "consumer"] as const)[value - 1];
}
