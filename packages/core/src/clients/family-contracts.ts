import type { FamilyName } from "@flow/sdk/internal";
import type * as grpc from "@grpc/grpc-js";
import * as consumerV1 from "../gen/consumer_service/v1/consumer";
import * as consumerV2 from "../gen/consumer_service/v2/consumer";
import * as processorV1 from "../gen/processor_service/v1/processor";
import * as processorV2 from "../gen/processor_service/v2/processor";
import * as sourceV1 from "../gen/source_service/v1/source";
import * as sourceV2 from "../gen/source_service/v2/source";

/** A generated client constructor (ts-proto's `XServiceClient`). */
type ClientConstructor = new (
  address: string,
  credentials: grpc.ChannelCredentials,
  options?: Partial<grpc.ClientOptions>,
) => grpc.Client;

/** The contract Core and a stage's service agreed on: e.g. processor_service v2, release 2.0.0. */
export interface NegotiatedContract {
  name: string;
  major: number;
  /** The release the service says it serves at that major (its Describe), e.g. "2.0.0". */
  version: string;
}

/**
 * The rpcs of a family: Describe and Configure are unary, `stream` its data stream; `ingest` is
 * where an upstream pushes batches on the direct data path (processors and consumers, from v2).
 */
export type FamilyRpc = "describe" | "configure" | "stream" | "ingest";

/** One major of one family contract, as Core's generated code has it. */
export interface FamilyContract {
  family: FamilyName;
  /** The contract's name, e.g. "processor_service". */
  name: string;
  major: number;
  /** The generated service definition (gRPC method paths of this major). */
  service: grpc.ServiceDefinition;
  client: ClientConstructor;
}

/**
 * Every family contract Core is built with: the generated modules themselves. Vendoring a new
 * major means generating it and adding its module here; the name and the major of each come from
 * the generated package (`flow.microservices.<name>.v<major>`), never typed by hand, and a test
 * fails when this list and Core's proto/ and src/gen/ folders disagree.
 */
const GENERATED = {
  source: [
    { module: sourceV1, service: sourceV1.SourceServiceService, client: sourceV1.SourceServiceClient },
    { module: sourceV2, service: sourceV2.SourceServiceService, client: sourceV2.SourceServiceClient },
  ],
  processor: [
    {
      module: processorV1,
      service: processorV1.ProcessorServiceService,
      client: processorV1.ProcessorServiceClient,
    },
    {
      module: processorV2,
      service: processorV2.ProcessorServiceService,
      client: processorV2.ProcessorServiceClient,
    },
  ],
  consumer: [
    {
      module: consumerV1,
      service: consumerV1.ConsumerServiceService,
      client: consumerV1.ConsumerServiceClient,
    },
    {
      module: consumerV2,
      service: consumerV2.ConsumerServiceService,
      client: consumerV2.ConsumerServiceClient,
    },
  ],
} as const;

/** The data stream of each family's contract (Read, Process, Write). */
const STREAM_RPC: Record<FamilyName, string> = { source: "read", processor: "process", consumer: "write" };

/** `flow.microservices.processor_service.v2` → { name: "processor_service", major: 2 }. */
export function contractOfPackage(protobufPackage: string): { name: string; major: number } {
  const found = /^flow\.microservices\.([a-z][a-z0-9_]*)\.v(\d+)$/.exec(protobufPackage);
  if (!found) throw new Error(`not a Flow contract package: ${protobufPackage}`);
  return { name: found[1] as string, major: Number(found[2]) };
}

/** Every family contract major Core has generated code for, lowest major first. */
export const FAMILY_CONTRACTS: readonly FamilyContract[] = Object.entries(GENERATED).flatMap(
  ([family, generated]) =>
    generated
      .map(({ module, service, client }) => ({
        family: family as FamilyName,
        ...contractOfPackage(module.protobufPackage),
        service: service as unknown as grpc.ServiceDefinition,
        client: client as unknown as ClientConstructor,
      }))
      .sort((a, b) => a.major - b.major),
);

function contractsOf(family: FamilyName): FamilyContract[] {
  return FAMILY_CONTRACTS.filter((contract) => contract.family === family);
}

/**
 * The contract (name) and the majors Core speaks with each family, lowest first: derived from the
 * generated code above, and what `flow --version` lists.
 */
export const CORE_CONTRACTS: Record<FamilyName, { name: string; majors: number[] }> = {
  source: spokenBy("source"),
  processor: spokenBy("processor"),
  consumer: spokenBy("consumer"),
};

function spokenBy(family: FamilyName): { name: string; majors: number[] } {
  const contracts = contractsOf(family);
  const names = new Set(contracts.map((contract) => contract.name));
  if (names.size !== 1) throw new Error(`the ${family} family's generated contracts name ${[...names]}`);
  return { name: contracts[0]?.name as string, majors: contracts.map((contract) => contract.major) };
}

/** Every major Core speaks with some family, lowest first (what a service of unknown family is offered). */
export const ALL_CORE_MAJORS: readonly number[] = [
  ...new Set(FAMILY_CONTRACTS.map((contract) => contract.major)),
].sort((a, b) => a - b);

/** The generated contract of `family` at `major`; throws for a major Core does not speak. */
export function familyContract(family: FamilyName, major: number): FamilyContract {
  const contract = contractsOf(family).find((candidate) => candidate.major === major);
  if (!contract) {
    throw new Error(
      `this core does not speak ${CORE_CONTRACTS[family].name} v${major} (it speaks ${describeMajors(family)})`,
    );
  }
  return contract;
}

/** The gRPC method path of `rpc` in `family`'s contract at `major`. */
export function methodPath(family: FamilyName, major: number, rpc: FamilyRpc): string {
  const key = rpc === "stream" ? STREAM_RPC[family] : rpc;
  const method = familyContract(family, major).service[key];
  if (!method) throw new Error(`${family} contract v${major} has no ${key} rpc`);
  return method.path;
}

/** "processor_service v1, v2": what Core speaks with a family, for messages. */
export function describeMajors(
  family: FamilyName,
  majors: readonly number[] = CORE_CONTRACTS[family].majors,
): string {
  return `${CORE_CONTRACTS[family].name} ${majors.map((major) => `v${major}`).join(", ")}`;
}
