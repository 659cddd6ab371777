import { type FamilyName, FLOW_CHANNEL_OPTIONS } from "@flow/sdk/internal";
import * as grpc from "@grpc/grpc-js";
import { ConsumerServiceClient } from "../gen/consumer_service/v1/consumer";
import { ProcessorServiceClient } from "../gen/processor_service/v1/processor";
import { SourceServiceClient } from "../gen/source_service/v1/source";

/** The contract (name and major) Core speaks with each family. */
export const CORE_CONTRACTS: Record<FamilyName, { name: string; majors: number[] }> = {
  source: { name: "source_service", majors: [1] },
  processor: { name: "processor_service", majors: [1] },
  consumer: { name: "consumer_service", majors: [1] },
};

/** Round robin over every address a target resolves to (DNS names with several replicas). */
const ROUND_ROBIN = JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] });

function channelOptions(): grpc.ChannelOptions {
  return { ...FLOW_CHANNEL_OPTIONS, "grpc.service_config": ROUND_ROBIN };
}

const CLIENTS = {
  source: SourceServiceClient,
  processor: ProcessorServiceClient,
  consumer: ConsumerServiceClient,
} as const;

/** A generated client of the family's contract, for the unary calls (Describe, Configure); streams use raw codecs. */
export function clientFor(family: FamilyName, target: string): grpc.Client {
  return new CLIENTS[family](target, grpc.credentials.createInsecure(), channelOptions());
}

/** A unary call's deadline, `ms` from now. */
export function deadline(ms: number): Date {
  return new Date(Date.now() + ms);
}
