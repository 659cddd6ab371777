import { type FamilyName, FLOW_CHANNEL_OPTIONS } from "@flow/sdk/internal";
import * as grpc from "@grpc/grpc-js";
import type { ComponentDescriptor } from "../gen/component/v1/component";
import * as consumerV1 from "../gen/consumer_service/v1/consumer";
import * as consumerV2 from "../gen/consumer_service/v2/consumer";
import * as processorV1 from "../gen/processor_service/v1/processor";
import * as processorV2 from "../gen/processor_service/v2/processor";
import * as sourceV1 from "../gen/source_service/v1/source";
import * as sourceV2 from "../gen/source_service/v2/source";
import { completingService, type GeneratedModule } from "./completing-serializers";

/** A client constructor of one family contract major. */
type ClientConstructor = new (
  address: string,
  credentials: grpc.ChannelCredentials,
  options?: Partial<grpc.ClientOptions>,
) => grpc.Client;

/**
 * Every family contract major the kit has generated code for: the generated modules and their
 * service definitions. The name and major of each come from its package
 * (`flow.microservices.<name>.v<major>`), never typed by hand, so vendoring a major and adding its
 * module here is all it takes for the kit to check it.
 */
const GENERATED: Record<FamilyName, { module: GeneratedModule; definition: grpc.ServiceDefinition }[]> = {
  source: [
    { module: sourceV1, definition: sourceV1.SourceServiceService },
    { module: sourceV2, definition: sourceV2.SourceServiceService },
  ],
  processor: [
    { module: processorV1, definition: processorV1.ProcessorServiceService },
    { module: processorV2, definition: processorV2.ProcessorServiceService },
  ],
  consumer: [
    { module: consumerV1, definition: consumerV1.ConsumerServiceService },
    { module: consumerV2, definition: consumerV2.ConsumerServiceService },
  ],
};

/** One major of one family contract as the kit speaks it. */
export interface KitContract {
  family: FamilyName;
  /** e.g. "processor_service" */
  name: string;
  major: number;
  /** The fully qualified gRPC service, e.g. `flow.microservices.processor_service.v2.ProcessorService`. */
  service: string;
  /**
   * The generated service definition, its serializers completing each message first (see
   * completing-serializers.ts): what the kit's clients are built from, and a server the kit runs.
   */
  definition: grpc.ServiceDefinition;
  client: ClientConstructor;
}

/** The gRPC service a definition's methods belong to: `/pkg.Service/Method` → `pkg.Service`. */
function serviceOf(definition: grpc.ServiceDefinition): string {
  const path = Object.values(definition)[0]?.path ?? "";
  const found = /^\/([^/]+)\//.exec(path);
  if (!found) throw new Error(`not a gRPC service definition: its first method's path is "${path}"`);
  return found[1] as string;
}

/** `flow.microservices.processor_service.v2` → { name: "processor_service", major: 2 }. */
export function contractOfPackage(protobufPackage: string): { name: string; major: number } {
  const found = /^flow\.microservices\.([a-z][a-z0-9_]*)\.v(\d+)$/.exec(protobufPackage);
  if (!found) throw new Error(`not a Flow contract package: ${protobufPackage}`);
  return { name: found[1] as string, major: Number(found[2]) };
}

/** Every family contract major the kit speaks, lowest major first within each family. */
export const KIT_CONTRACTS: readonly KitContract[] = Object.entries(GENERATED).flatMap(([family, modules]) =>
  modules
    .map(({ module, definition }) => {
      const completing = completingService(definition, module);
      const service = serviceOf(definition);
      return {
        family: family as FamilyName,
        ...contractOfPackage(module.protobufPackage),
        service,
        definition: completing,
        client: grpc.makeGenericClientConstructor(completing, service) as ClientConstructor,
      };
    })
    .sort((a, b) => a.major - b.major),
);

/** The majors the kit speaks with a family, lowest first. */
export function kitMajors(family: FamilyName): number[] {
  return KIT_CONTRACTS.filter((contract) => contract.family === family).map((contract) => contract.major);
}

/**
 * Every major the kit speaks with some family, lowest first: what it offers a service it starts
 * in FLOW_CONTRACT_MAJORS, as Core offers every major it speaks to a service of unknown family.
 */
export const ALL_KIT_MAJORS: readonly number[] = [...new Set(KIT_CONTRACTS.map((c) => c.major))].sort(
  (a, b) => a - b,
);

/** The kit's contract of `family` at `major`; throws for one it does not speak. */
export function kitContract(family: FamilyName, major: number): KitContract {
  const found = KIT_CONTRACTS.find((contract) => contract.family === family && contract.major === major);
  if (!found) throw new Error(`the kit does not speak ${family}_service v${major}`);
  return found;
}

/** A family's contract name: `processor_service`. */
export function contractName(family: FamilyName): string {
  return `${family}_service`;
}

/** How a contract major reads in report lines: `processor_service v2`. */
export function contractLabel(family: FamilyName, major: number): string {
  return `${contractName(family)} v${major}`;
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

/**
 * The family's data stream and unary calls at one major. Every major's messages have the same
 * shape (and field numbers); only the events inside differ (see event-majors.ts).
 */
export interface FamilyClient extends grpc.Client {
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
    callback: (error: grpc.ServiceError | null, response: ConfigureAnswer) => void,
  ): unknown;
  read(): grpc.ClientDuplexStream<unknown, unknown>;
  process(): grpc.ClientDuplexStream<unknown, unknown>;
  write(): grpc.ClientDuplexStream<unknown, unknown>;
  /** processor_service and consumer_service from v2.1 (the direct data path); absent elsewhere. */
  ingest?(
    metadata: grpc.Metadata,
    options: Partial<grpc.CallOptions>,
    callback: (error: grpc.ServiceError | null, response: { batches: bigint }) => void,
  ): grpc.ClientWritableStream<unknown>;
}

/** A client of the family's contract at `major` (default: the lowest, v1). */
export function familyClient(family: FamilyName, target: string, major = 1): FamilyClient {
  const Client = kitContract(family, major).client;
  return new Client(target, grpc.credentials.createInsecure(), KIT_CHANNEL_OPTIONS) as FamilyClient;
}

const deadline = (ms: number): Partial<grpc.CallOptions> => ({ deadline: new Date(Date.now() + ms) });

/** Describe on the family's contract at `major`. */
export function describe(
  family: FamilyName,
  target: string,
  timeoutMs: number,
  major = 1,
): Promise<ComponentDescriptor> {
  const client = familyClient(family, target, major);
  return new Promise<ComponentDescriptor>((resolve, reject) =>
    client.describe({}, new grpc.Metadata(), deadline(timeoutMs), (error, response) =>
      error
        ? reject(error)
        : response.component
          ? resolve(response.component)
          : reject(new Error("Describe answered no component")),
    ),
  ).finally(() => client.close());
}

/** What Describe at one major found: the descriptor, that the major is not served, or the error. */
export type DescribeAnswer = { component: ComponentDescriptor } | { unimplemented: true } | { error: string };

/** Describe at `major`; UNIMPLEMENTED says the service does not serve that major (as Core reads it). */
export async function describeAt(
  family: FamilyName,
  target: string,
  major: number,
  timeoutMs: number,
): Promise<DescribeAnswer> {
  try {
    return { component: await describe(family, target, timeoutMs, major) };
  } catch (error) {
    const failure = error as grpc.ServiceError;
    if (failure.code === grpc.status.UNIMPLEMENTED) return { unimplemented: true };
    return { error: failure.details || failure.message };
  }
}

export interface ConfigureAnswer {
  accepted: boolean;
  issues: { path: string; message: string; severity: number }[];
}

/** Configure with validate_only on the family's contract at `major`. */
export function validateConfig(
  family: FamilyName,
  target: string,
  config: unknown,
  timeoutMs: number,
  major = 1,
): Promise<ConfigureAnswer> {
  const client = familyClient(family, target, major);
  return new Promise<ConfigureAnswer>((resolve, reject) =>
    client.configure(
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
