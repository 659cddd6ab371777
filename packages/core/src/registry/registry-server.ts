import { join } from "node:path";
import { ServiceServer } from "@flow/sdk/internal";
import type { Logger } from "pino";
import { RegistryServiceService } from "../gen/registry_service/v1/registry";
import type { StateStore } from "../state/state-store";
import { registryServiceHandlers } from "./registry-service";

/** Core's own contracts (registry_service and what it imports), from src/ or dist/ alike. */
const CORE_PROTO_DIR = join(__dirname, "..", "..", "proto");

export interface RegistryServerOptions {
  store: StateStore;
  logger: Logger;
  /** 127.0.0.1 unless told otherwise; 0.0.0.0 serves other hosts. */
  host?: string;
  /** 0 (the default) lets the OS choose. */
  port?: number;
  defaultTtlSeconds?: number;
  maxTtlSeconds?: number;
}

/**
 * `flow registry serve`: RegistryService over a state store, with grpc.health.v1 and server
 * reflection like every Flow server (grpcurl, grpc_health_probe and Kubernetes probes work).
 * The caller owns the store: stopping the server leaves it open.
 */
export class RegistryServer {
  private constructor(private readonly server: ServiceServer) {}

  static async start(options: RegistryServerOptions): Promise<RegistryServer> {
    const { store, logger, defaultTtlSeconds, maxTtlSeconds } = options;
    const server = await ServiceServer.start({
      services: [
        {
          definition: RegistryServiceService,
          implementation: registryServiceHandlers({ store, logger, defaultTtlSeconds, maxTtlSeconds }),
        },
      ],
      protoDir: CORE_PROTO_DIR,
      host: options.host,
      port: options.port ?? 0,
    });
    return new RegistryServer(server);
  }

  /** host:port, with the port the OS chose. */
  get address(): string {
    return this.server.address;
  }

  get port(): number {
    return this.server.port;
  }

  /** Turns health NOT_SERVING, lets calls in progress finish (at most `graceMs`), then closes. */
  stop(graceMs = 5_000): Promise<void> {
    return this.server.stop(graceMs);
  }
}
