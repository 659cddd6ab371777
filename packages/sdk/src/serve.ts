import { join } from "node:path";
import type * as grpc from "@grpc/grpc-js";
import { bundlesAt } from "./bundle-frames";
import type { ContractVersion, FamilyName } from "./component";
import { type ComponentInfo, describeComponent } from "./component-handlers";
import { type ConsumerDefinition, consumerImplementation } from "./consumer";
import { vendoredContractVersion } from "./contract-version";
import { type DirectPathOption, directPathOn } from "./direct-path";
import { withEncodedProcessBatches } from "./encoded-batches";
import { formatHandshake } from "./handshake";
import { bindUnixSocket, listenAddressFromEnv } from "./listen-address";
import { type ProcessorDefinition, processorImplementation } from "./processor";
import { registerFromEnv } from "./registration";
import { givenMajors, handshakeMajor, majorsFromEnv, majorsToServe, servedDefinition } from "./served-majors";
import { serviceLogger } from "./service-logger";
import { callerFile, findServicePackage, type ServedMajor } from "./service-package";
import { ServiceServer } from "./service-server";
import { type SourceDefinition, sourceImplementation } from "./source";

export interface ServeOptions {
  /**
   * The generated service definition of the family contract (e.g. ProcessorServiceService), or
   * several majors' definitions; each serves the major its package names. Default: every major
   * the calling module's package generated (see service-package.ts).
   */
  service?: grpc.ServiceDefinition | readonly grpc.ServiceDefinition[];
  /**
   * Serve only this major of the family contract (e.g. 1, the old one, for a Core or a pipeline
   * that speaks only it). Default: every major the package generated, the handshake naming the
   * highest one Core speaks.
   */
  major?: number;
  /**
   * The package folder: its proto/ feeds reflection, its lock tells the exact contract version.
   * Default: the nearest folder with a package.json above the calling module.
   */
  packageDir?: string;
  host?: string;
  /** 0 by default (the OS chooses); FLOW_SERVICE_PORT overrides it. */
  port?: number;
  /** Print the handshake line on stdout (default: true). */
  handshake?: boolean;
  /**
   * The service owns its process (default: true): it stops gracefully on SIGTERM/SIGINT, and a
   * failure to start is printed on stderr as `<name>: <message>` and exits 1 instead of rejecting.
   */
  handleSignals?: boolean;
  /** Grace period for a stop, in milliseconds. */
  graceMs?: number;
  /**
   * The largest request message the service accepts, in bytes (its gRPC receive limit; 64 MiB by
   * default). Describe announces it and Core never sends a larger one.
   */
  maxMessageBytes?: number;
  /**
   * The direct data path (on by default): at contract major 2 the service tells Core it can hand
   * batches straight to the next stage, and does so where Core names peers: a source or processor
   * pushes each batch that fits them to their Ingest and tells Core only a reference; a processor
   * or consumer serves Ingest and reads a batch Core names by reference from what was pushed.
   * Nothing of this reaches the service's own code. `false` turns it off for this service
   * (Describe says `features.direct_path: false`, every batch goes through Core), e.g. to rule it
   * out while chasing a problem. Major 1 never has it.
   */
  directPath?: boolean;
}

/** A running service: where it listens and how to stop it. */
export interface RunningService {
  server: ServiceServer;
  address: string;
  /** The contract the handshake names: the highest major served that Core speaks. */
  contract: ContractVersion;
  /** Every major served, lowest first, at the versions the package vendored. */
  contracts: ContractVersion[];
  stop(): Promise<void>;
}

export { serviceLogger } from "./service-logger";

type Implementation = (
  contract: ContractVersion,
  server: ServiceServer,
  served: ContractVersion[],
  options: DirectPathOption,
) => grpc.UntypedServiceImplementation;
type PackageOptions = Omit<ServeOptions, "service"> & {
  /** The majors to serve, lowest first, each with the definition the server registers. */
  services: ServedMajor[];
  packageDir: string;
};

/**
 * The options with the package filled in where not given, from `caller`: the module that called
 * `serve*` (read from the stack before anything else runs), and the majors to serve.
 */
function withPackage(family: FamilyName, options: ServeOptions, caller: string | undefined): PackageOptions {
  const { service, packageDir } = options;
  let found: { services: ServedMajor[]; packageDir: string };
  if (service && packageDir) found = { services: givenMajors(service), packageDir };
  else {
    if (!caller) throw new Error("cannot tell which module called serve*: pass { service, packageDir }");
    const inPackage = findServicePackage(caller, family);
    found = {
      services: service ? givenMajors(service) : inPackage.services,
      packageDir: packageDir ?? inPackage.packageDir,
    };
  }
  const services = majorsToServe(found.services, `${family}_service`, options.major).map((served) => ({
    major: served.major,
    service: servedDefinition(served),
  }));
  return { ...options, services, packageDir: found.packageDir };
}

/** Starts the service; when it owns its process, a failure to start ends it with one line. */
async function serve(
  family: FamilyName,
  info: ComponentInfo<unknown>,
  implement: Implementation,
  resolveOptions: () => PackageOptions,
  ownsProcess: boolean,
): Promise<RunningService> {
  try {
    return await start(family, info, implement, resolveOptions());
  } catch (error) {
    if (!ownsProcess) throw error;
    process.stderr.write(`${info.name}: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}

async function start(
  family: FamilyName,
  info: ComponentInfo<unknown>,
  implement: Implementation,
  options: PackageOptions,
): Promise<RunningService> {
  const name = info.name;
  const contractName = `${family}_service`;
  const contracts = options.services.map(({ major }) =>
    vendoredContractVersion(options.packageDir, contractName, major),
  );
  // Spawned by Core, which says the majors it speaks with this stage; before anything listens.
  const major = handshakeMajor(
    contracts.map((served) => served.major),
    majorsFromEnv(process.env.FLOW_CONTRACT_MAJORS),
    contractName,
  );
  const contract = contracts.find((served) => served.major === major) as ContractVersion;
  const envPort = process.env.FLOW_SERVICE_PORT ? Number(process.env.FLOW_SERVICE_PORT) : undefined;
  // Spawned by Core, which may ask for a Unix socket (see listen-address.ts).
  const socket = listenAddressFromEnv(process.env);
  const server = await ServiceServer.start({
    services: options.services.map(({ service }, index) => ({
      definition: service,
      implementation: (started: ServiceServer) =>
        implement(contracts[index] as ContractVersion, started, contracts, {
          directPath: options.directPath,
        }),
    })),
    protoDir: join(options.packageDir, "proto"),
    host: options.host ?? process.env.FLOW_SERVICE_HOST,
    port: options.port ?? envPort ?? 0,
    serverOptions:
      options.maxMessageBytes === undefined
        ? undefined
        : { "grpc.max_receive_message_length": checkedMessageBytes(options.maxMessageBytes) },
  });
  if (socket) {
    await bindUnixSocket(server.server, socket.path).catch(async (error: unknown) => {
      await server.stop(0);
      throw error;
    });
  }
  // FLOW_REGISTRY set: list this service in Core's registry while it runs (see registration.ts).
  // The registry entry says direct_path when a major the service serves has it (Describe says it per major).
  const directPath = contracts.some((served) => directPathOn(served.major, options));
  const bundles = contracts.some((served) => bundlesAt(served.major));
  const component = describeComponent(info, family, contracts, server.maxMessageBytes, directPath, bundles);
  const registration = registerFromEnv(process.env, {
    component,
    address: server.address,
    logger: serviceLogger(name),
  });
  const running: RunningService = {
    server,
    address: server.address,
    contract,
    contracts,
    // Deregister first, so no new pipeline finds the service while it drains.
    stop: async () => {
      await registration?.stop();
      await server.stop(options.graceMs);
    },
  };
  if (options.handleSignals ?? true) {
    const log = serviceLogger(name);
    const onSignal = (signal: NodeJS.Signals): void => {
      log.info({ signal }, "stopping: finishing in-flight work");
      running.stop().then(() => process.exit(0));
    };
    process.once("SIGTERM", onSignal);
    process.once("SIGINT", onSignal);
    // Spawned by Flow Core: stdin is a pipe from Core. When it closes, Core is gone (even if it
    // was killed with SIGKILL), so stop rather than linger as an orphan.
    if (process.env.FLOW_SPAWNED === "1") {
      process.stdin.on("data", () => undefined);
      process.stdin.once("end", () => onSignal("SIGTERM"));
      process.stdin.resume();
    }
  }
  // Only now, with the signal handlers in place: whoever reads the handshake may send SIGTERM at
  // once, and a SIGTERM before the handler exists kills the process instead of draining it.
  if (options.handshake ?? true) {
    process.stdout.write(
      `${formatHandshake({
        contract: contract.name,
        major: contract.major,
        ...(socket ? { network: "unix", address: socket.path } : { network: "tcp", address: server.address }),
      })}\n`,
    );
  }
  return running;
}

/** A receive limit grpc-js can enforce: a positive whole number of bytes within a gRPC frame. */
function checkedMessageBytes(bytes: number): number {
  if (!Number.isSafeInteger(bytes) || bytes < 1 || bytes > 0xffff_ffff)
    throw new RangeError(
      `maxMessageBytes: found ${bytes}, expected a whole number of bytes from 1 to 4294967295 (leave it out for 64 MiB)`,
    );
  return bytes;
}

/**
 * Runs a processor: processor_service at every major its package generated (or the one
 * ServeOptions.major asks for), its handlers working on FlowEvent whatever the major. A service's
 * `main.ts` is this one call: the package and its generated services are found from the calling
 * module; `options` overrides them.
 */
export function serveProcessor<Config, State = Config>(
  definition: ProcessorDefinition<Config, State>,
  options: ServeOptions = {},
): Promise<RunningService> {
  const caller = options.service && options.packageDir ? undefined : callerFile(serveProcessor);
  return serve(
    "processor",
    definition as ComponentInfo<unknown>,
    (contract, server, served, direct) =>
      processorImplementation(definition, contract, server, served, direct),
    () => {
      const resolved = withPackage("processor", options, caller);
      // A processor that works on encoded batches gets them as bytes (see encoded-batches.ts).
      if (!definition.processEncoded) return resolved;
      const services = resolved.services.map((served) => ({
        ...served,
        service: withEncodedProcessBatches(served.service),
      }));
      return { ...resolved, services };
    },
    options.handleSignals ?? true,
  );
}

/** Runs a source (source_service, every major generated); the package is found as for serveProcessor. */
export function serveSource<Config>(
  definition: SourceDefinition<Config>,
  options: ServeOptions = {},
): Promise<RunningService> {
  const caller = options.service && options.packageDir ? undefined : callerFile(serveSource);
  return serve(
    "source",
    definition as ComponentInfo<unknown>,
    (contract, server, served, direct) => sourceImplementation(definition, contract, server, served, direct),
    () => withPackage("source", options, caller),
    options.handleSignals ?? true,
  );
}

/** Runs a consumer (consumer_service, every major generated); the package is found as for serveProcessor. */
export function serveConsumer<Config>(
  definition: ConsumerDefinition<Config>,
  options: ServeOptions = {},
): Promise<RunningService> {
  const caller = options.service && options.packageDir ? undefined : callerFile(serveConsumer);
  return serve(
    "consumer",
    definition as ComponentInfo<unknown>,
    (contract, server, served, direct) =>
      consumerImplementation(definition, contract, server, served, direct),
    () => withPackage("consumer", options, caller),
    options.handleSignals ?? true,
  );
}
