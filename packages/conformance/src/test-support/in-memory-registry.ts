import * as grpc from "@grpc/grpc-js";
import type {
  PipelineRun,
  RegisteredService,
  RegistryServiceServer,
} from "../gen/registry_service/v1/registry";

/**
 * The smallest RegistryService that keeps the contract's promises, written by hand (Flow Core
 * has the real one): instances live for their TTL unless a heartbeat renews them, and runs are
 * listed newest first. `now` is injectable so expiry needs no waiting.
 */
export function inMemoryRegistry(options: {
  now: () => number;
  runs?: PipelineRun[];
  defaultTtlSeconds?: number;
}) {
  const instances = new Map<string, RegisteredService>();
  const ttls = new Map<string, number>();
  let nextId = 1;
  const live = (): RegisteredService[] => {
    const now = BigInt(options.now());
    for (const [id, instance] of instances) if (instance.expiresAtMs <= now) instances.delete(id);
    return [...instances.values()];
  };

  const implementation: RegistryServiceServer = {
    register(call, callback) {
      const { name, address, component, ttlSeconds } = call.request;
      if (name === "" || address === "") {
        callback({ code: grpc.status.INVALID_ARGUMENT, details: "register needs a name and an address" });
        return;
      }
      const ttl = ttlSeconds || (options.defaultTtlSeconds ?? 30);
      const instanceId = `instance-${nextId++}`;
      const now = BigInt(options.now());
      instances.set(instanceId, {
        instanceId,
        name,
        address,
        component,
        registeredAtMs: now,
        lastHeartbeatMs: now,
        expiresAtMs: now + BigInt(ttl * 1000),
      });
      ttls.set(instanceId, ttl);
      callback(null, { instanceId, ttlSeconds: ttl });
    },
    heartbeat(call, callback) {
      const instance = live().find((candidate) => candidate.instanceId === call.request.instanceId);
      if (instance) {
        instance.lastHeartbeatMs = BigInt(options.now());
        instance.expiresAtMs =
          instance.lastHeartbeatMs + BigInt((ttls.get(instance.instanceId) ?? 30) * 1000);
      }
      callback(null, { known: instance !== undefined });
    },
    deregister(call, callback) {
      instances.delete(call.request.instanceId);
      callback(null, {});
    },
    listServices(call, callback) {
      const { name } = call.request;
      callback(null, { services: live().filter((instance) => name === "" || instance.name === name) });
    },
    listRuns(call, callback) {
      const { pipeline, limit } = call.request;
      const runs = [...(options.runs ?? [])]
        .filter((run) => pipeline === "" || run.pipeline === pipeline)
        .sort((a, b) => Number(b.startedAtMs - a.startedAtMs));
      callback(null, { runs: runs.slice(0, limit || runs.length) });
    },
  };
  return implementation;
}
