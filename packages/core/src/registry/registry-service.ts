import * as grpc from "@grpc/grpc-js";
import type { Logger } from "pino";
import type {
  DeregisterRequest,
  DeregisterResponse,
  HeartbeatRequest,
  HeartbeatResponse,
  ListRunsRequest,
  ListRunsResponse,
  ListServicesRequest,
  ListServicesResponse,
  RegisterRequest,
  RegisterResponse,
  RegistryServiceServer,
} from "../gen/registry_service/v1/registry";
import { DEFAULT_SERVICE_TTL_SECONDS, type StateStore } from "../state/state-store";
import { descriptorToJson, toRunMessage, toServiceMessage } from "./registry-messages";

export interface RegistryServiceOptions {
  store: StateStore;
  logger: Logger;
  /** Granted when a service asks for 0 (the contract's "registry default"). */
  defaultTtlSeconds?: number;
  /**
   * The longest TTL granted: an entry of a service that died without deregistering lingers this
   * long at most, so Core keeps dialling a dead address no longer than this.
   */
  maxTtlSeconds?: number;
}

export const DEFAULT_MAX_TTL_SECONDS = 300;

/** A request the registry refuses, answered INVALID_ARGUMENT with what was wrong. */
class InvalidRequest extends Error {}

/**
 * RegistryService (registry_service v1) over a state store: the store holds the entries, their
 * expiry and the run history, so several registries and every `flow run` sharing one store (a
 * PostgreSQL URL for several hosts) see the same services.
 */
export function registryServiceHandlers(options: RegistryServiceOptions): RegistryServiceServer {
  const { store, logger } = options;
  const defaultTtl = options.defaultTtlSeconds ?? DEFAULT_SERVICE_TTL_SECONDS;
  const maxTtl = options.maxTtlSeconds ?? DEFAULT_MAX_TTL_SECONDS;

  return {
    register: unary<RegisterRequest, RegisterResponse>(
      logger,
      "Register",
      async ({ name, address, component, ttlSeconds }) => {
        checkName(name);
        checkAddress(address);
        const granted = Math.min(ttlSeconds || defaultTtl, maxTtl);
        const service = await store.registerService({
          name,
          address,
          component: descriptorToJson(component),
          ttlSeconds: granted,
        });
        logger.info(
          { service: name, address, instanceId: service.instanceId, ttlSeconds: service.ttlSeconds },
          "service registered",
        );
        return { instanceId: service.instanceId, ttlSeconds: service.ttlSeconds };
      },
    ),
    heartbeat: unary<HeartbeatRequest, HeartbeatResponse>(logger, "Heartbeat", async ({ instanceId }) => {
      if (!instanceId) throw new InvalidRequest("instance_id is empty");
      const known = await store.heartbeatService(instanceId);
      if (!known)
        logger.info({ instanceId }, "heartbeat from an unknown or expired instance; it will register again");
      return { known };
    }),
    deregister: unary<DeregisterRequest, DeregisterResponse>(logger, "Deregister", async ({ instanceId }) => {
      if (!instanceId) throw new InvalidRequest("instance_id is empty");
      const removed = await store.deregisterService(instanceId);
      logger.info({ instanceId, removed }, "service deregistered");
      return {};
    }),
    listServices: unary<ListServicesRequest, ListServicesResponse>(
      logger,
      "ListServices",
      async ({ name }) => {
        const services = await store.listServices(name || undefined);
        return { services: services.map(toServiceMessage) };
      },
    ),
    listRuns: unary<ListRunsRequest, ListRunsResponse>(logger, "ListRuns", async ({ pipeline, limit }) => {
      const runs = await store.listRuns({ pipeline: pipeline || undefined, limit: limit || undefined });
      return { runs: runs.map(toRunMessage) };
    }),
  };
}

function checkName(name: string): void {
  // The same rule as `registry:` in the pipeline schema, so every registered name can be used there.
  if (!/^\S+$/.test(name))
    throw new InvalidRequest(`name ${JSON.stringify(name)} must be non-empty, without spaces`);
}

function checkAddress(address: string): void {
  if (address.startsWith("unix:") && address.length > "unix:".length) return;
  const match = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):(\d{1,5})$/.exec(address);
  const port = match ? Number(match[2]) : 0;
  if (port < 1 || port > 65535) {
    throw new InvalidRequest(
      `address ${JSON.stringify(address)} must be host:port (port 1-65535), [ipv6]:port or unix:/path`,
    );
  }
}

/** A unary handler from an async function: refusals answer INVALID_ARGUMENT, store failures UNAVAILABLE. */
function unary<Request, Response>(
  logger: Logger,
  method: string,
  handle: (request: Request) => Promise<Response>,
): grpc.handleUnaryCall<Request, Response> {
  return (call, callback) => {
    handle(call.request).then(
      (response) => callback(null, response),
      (error: unknown) => {
        if (error instanceof InvalidRequest || error instanceof RangeError) {
          callback({ code: grpc.status.INVALID_ARGUMENT, details: `${method}: ${error.message}` });
          return;
        }
        // The store could not be reached or used: the caller retries with backoff.
        logger.error({ err: error, method }, "registry call failed");
        callback({
          code: grpc.status.UNAVAILABLE,
          details: `${method}: the registry's state store failed: ${(error as Error).message}`,
        });
      },
    );
  };
}
