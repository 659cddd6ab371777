import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import {
  HealthImplementation,
  protoPath as healthProtoPath,
  service as healthService,
} from "grpc-health-check";
import { withStreamBundles } from "./bundled-stream-method";
import { bindImplementation, serviceNameOf } from "./method-binding";

export { serviceNameOf };

import { PeerInbox } from "./peer-inbox";
import { describingOnly, linkFileDescriptors } from "./reflection-descriptors";
import { FLOW_WINDOW_BYTES, widenServerFlowWindows } from "./server-flow-window";
import { settlesWithin } from "./settles-within";

export interface ServiceRegistration {
  /** The generated service definition (e.g. ProcessorServiceService). */
  definition: grpc.ServiceDefinition;
  /**
   * Handlers, keyed by RPC name (`Describe`) or by the definition's keys; or a function that
   * builds them from the server (stream handlers register their drain work with it).
   */
  implementation:
    | grpc.UntypedServiceImplementation
    | ((server: ServiceServer) => grpc.UntypedServiceImplementation);
}

export interface ServerOptions {
  services: ServiceRegistration[];
  /**
   * The package's own proto/ folder: reflection describes the registered services from it (with
   * every message they use), and nothing else it holds.
   */
  protoDir: string;
  /** Host to bind; 127.0.0.1 unless told otherwise. */
  host?: string;
  /** 0 (the default) lets the OS choose. */
  port?: number;
  /** Extra grpc-js server options (merged over Flow's defaults). */
  serverOptions?: grpc.ServerOptions;
}

/** Work a stream handler can finish and acknowledge before the server stops. */
export type DrainHook = () => Promise<void>;

/**
 * Message sizes and the HTTP/2 window shared by Flow's servers and Core's channels: batches can
 * be large, and the 64 KiB default flow-control window starves a fast pipeline (see
 * server-flow-window.ts; servers get their window from `widenServerFlowWindows`).
 */
export const FLOW_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  "grpc.max_receive_message_length": 64 * 1024 * 1024,
  "grpc.max_send_message_length": 64 * 1024 * 1024,
  "grpc-node.flow_control_window": FLOW_WINDOW_BYTES,
};

/** grpc-js's receive limit when none is set (its DEFAULT_MAX_RECEIVE_MESSAGE_LENGTH, as in gRPC's other languages). */
export const GRPC_DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/** The most a gRPC frame can carry (its length prefix is 32 bits): what a receive limit of -1 ("none") amounts to. */
const GRPC_FRAME_MAX_BYTES = 0xffff_ffff;

/**
 * The largest message a server built with these options accepts, in bytes: the receive limit
 * grpc-js enforces (a larger message fails the call with RESOURCE_EXHAUSTED), which Describe
 * announces as Limits.max_message_bytes so Core never sends one larger.
 */
export function maxReceiveMessageBytes(options: grpc.ServerOptions): number {
  const limit = options["grpc.max_receive_message_length"];
  if (limit === undefined) return GRPC_DEFAULT_MAX_MESSAGE_BYTES;
  return limit < 0 ? GRPC_FRAME_MAX_BYTES : limit;
}

/**
 * A grpc-js server with standard grpc.health.v1 health and server reflection beside the
 * service's own contract, and a graceful stop: health turns NOT_SERVING, stream handlers finish
 * and acknowledge what they hold, then the server closes.
 */
export class ServiceServer {
  private readonly drains = new Set<DrainHook>();
  private stopping: Promise<void> | undefined;
  /**
   * The batches upstream stages pushed to this server on the direct data path, for its Process or
   * Write streams to take (one inbox per server, whichever major an Ingest or a stream came on).
   */
  readonly peerInbox = new PeerInbox();

  private boundPort = 0;

  private constructor(
    readonly server: grpc.Server,
    readonly health: HealthImplementation,
    readonly serviceNames: string[],
    readonly host: string,
    /** The largest message this server accepts (its gRPC receive limit), announced in Describe. */
    readonly maxMessageBytes: number,
  ) {}

  /** The port the server listens on (chosen by the OS when asked for 0). */
  get port(): number {
    return this.boundPort;
  }

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  static async start(options: ServerOptions): Promise<ServiceServer> {
    const grpcOptions = { ...FLOW_CHANNEL_OPTIONS, ...options.serverOptions };
    const server = new grpc.Server(grpcOptions);
    const serviceNames = options.services.map((service) => serviceNameOf(service.definition));
    const health = new HealthImplementation({ "": "SERVING" });
    for (const name of serviceNames) health.setStatus(name, "SERVING");
    const host = options.host ?? "127.0.0.1";
    // The instance exists before any handler so that handlers can register drains with it.
    const instance = new ServiceServer(
      server,
      health,
      serviceNames,
      host,
      maxReceiveMessageBytes(grpcOptions),
    );

    for (const service of options.services) {
      const implementation =
        typeof service.implementation === "function"
          ? service.implementation(instance)
          : service.implementation;
      // A family's data stream at v2 reads and writes bundles (bundled-stream-method.ts).
      const bundled = withStreamBundles(
        service.definition,
        bindImplementation(service.definition, implementation),
      );
      server.addService(bundled.definition, bundled.implementation);
    }
    health.addToServer(server);

    // Reflection describes exactly the services registered here, and health; proto/ may hold
    // more (every major vendored, where this server serves one): those stay out of it.
    const protoFiles = listProtoFiles(options.protoDir);
    const definitions = loadSync([...protoFiles, healthProtoPath], {
      includeDirs: [options.protoDir],
      longs: String,
      defaults: true,
    });
    const described = [...serviceNames, serviceNameOf(healthService)];
    new ReflectionService(describingOnly(linkFileDescriptors(definitions), described), {
      services: described,
    }).addToServer(server);

    instance.boundPort = await new Promise<number>((resolve, reject) => {
      server.bindAsync(
        `${host}:${options.port ?? 0}`,
        grpc.ServerCredentials.createInsecure(),
        (error, bound) => (error ? reject(error) : resolve(bound)),
      );
    });
    widenServerFlowWindows(server);
    return instance;
  }

  /** Registers work to finish on a graceful stop; returns the function that unregisters it. */
  trackDrain(hook: DrainHook): () => void {
    this.drains.add(hook);
    return () => this.drains.delete(hook);
  }

  get isStopping(): boolean {
    return this.stopping !== undefined;
  }

  setServing(serving: boolean): void {
    const status = serving ? "SERVING" : "NOT_SERVING";
    this.health.setStatus("", status);
    for (const name of this.serviceNames) this.health.setStatus(name, status);
  }

  /**
   * Stops taking work, lets every tracked stream finish and acknowledge what it holds, then
   * closes; after `graceMs` whatever is left is cut off.
   */
  stop(graceMs = 10_000): Promise<void> {
    this.stopping ??= (async () => {
      this.setServing(false);
      const drained = Promise.allSettled([...this.drains].map((drain) => drain()));
      await settlesWithin(drained, graceMs);
      const closed = new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
      if (!(await settlesWithin(closed, Math.max(100, graceMs / 2)))) this.server.forceShutdown();
    })();
    return this.stopping;
  }
}

function listProtoFiles(protoDir: string): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir).sort()) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (entry.endsWith(".proto")) files.push(relative(protoDir, path));
    }
  };
  walk(protoDir);
  return files;
}
