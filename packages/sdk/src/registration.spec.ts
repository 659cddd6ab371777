import { EventEmitter, once } from "node:events";
import { createServer } from "node:net";
import { hostname } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import pino from "pino";
import type { ComponentDescriptor } from "./component";
import { ConsumerServiceService } from "./gen/consumer_service/v1/consumer";
import {
  type DeregisterRequest,
  type HeartbeatRequest,
  type RegisterRequest,
  RegistryServiceService,
} from "./gen/registry_service/v1/registry";
import { advertisedAddress, heartbeatIntervalMs, registerFromEnv, ServiceRegistration } from "./registration";
import { serveConsumer } from "./serve";
import { ServiceServer } from "./service-server";

const packageDir = join(__dirname, "..");
const silent = pino({ level: "silent" });

const component: ComponentDescriptor = {
  name: "flow-test-recorder",
  version: "1.2.3",
  family: 3,
  contracts: [{ name: "consumer_service", major: 1, minor: 0, patch: 0 }],
  acceptedEventTypes: ["order.*"],
  producedEventTypes: [],
  configSchema: '{"type":"object"}',
  limits: {
    maxBatchSize: 10,
    maxInFlightBatches: 2,
    maxEventBytes: 5_000_000_000n,
    maxMessageBytes: 67_108_864n,
  },
  features: {
    checkpointing: false,
    ordering: 1,
    idempotent: true,
    deadLetters: false,
    directPath: false,
    bundles: false,
  },
  description: "records",
};

/**
 * A registry on a real port whose answers each test scripts; it records every call. (Core's real
 * registry lives in @flow/core, which depends on the SDK, so the SDK tests the client side alone.)
 */
class ScriptedRegistry extends EventEmitter {
  readonly registers: RegisterRequest[] = [];
  readonly heartbeats: HeartbeatRequest[] = [];
  readonly deregisters: DeregisterRequest[] = [];
  grantTtlSeconds = 1;
  /** Answers of the next heartbeats (default: known). */
  heartbeatAnswers: boolean[] = [];
  /** How many of the next Register calls fail with UNAVAILABLE. */
  failRegisters = 0;
  /** Never answer Register (a registry that accepts connections but hangs). */
  hangRegisters = false;

  private constructor(readonly server: ServiceServer) {
    super();
  }

  static async start(): Promise<ScriptedRegistry> {
    let registry: ScriptedRegistry | undefined;
    const server = await ServiceServer.start({
      protoDir: join(packageDir, "proto"),
      services: [
        {
          definition: RegistryServiceService,
          implementation: {
            Register: (
              call: grpc.ServerUnaryCall<RegisterRequest, unknown>,
              callback: grpc.sendUnaryData<unknown>,
            ) => {
              const self = registry as ScriptedRegistry;
              self.registers.push(call.request);
              self.emit("register", call.request);
              if (self.hangRegisters) return;
              if (self.failRegisters > 0) {
                self.failRegisters -= 1;
                callback({ code: grpc.status.UNAVAILABLE, details: "scripted outage" });
                return;
              }
              callback(null, {
                instanceId: `instance-${self.registers.length}`,
                ttlSeconds: self.grantTtlSeconds,
              });
            },
            Heartbeat: (
              call: grpc.ServerUnaryCall<HeartbeatRequest, unknown>,
              callback: grpc.sendUnaryData<unknown>,
            ) => {
              const self = registry as ScriptedRegistry;
              self.heartbeats.push(call.request);
              callback(null, { known: self.heartbeatAnswers.shift() ?? true });
            },
            Deregister: (
              call: grpc.ServerUnaryCall<DeregisterRequest, unknown>,
              callback: grpc.sendUnaryData<unknown>,
            ) => {
              (registry as ScriptedRegistry).deregisters.push(call.request);
              callback(null, {});
            },
          },
        },
      ],
    });
    registry = new ScriptedRegistry(server);
    return registry;
  }

  get address(): string {
    return this.server.address;
  }

  stop(): Promise<void> {
    return this.server.stop(100);
  }
}

/** A port nothing listens on: bound by the OS, then released. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, "127.0.0.1");
  await once(probe, "listening");
  const { port } = probe.address() as { port: number };
  probe.close();
  await once(probe, "close");
  return port;
}

describe("ServiceRegistration against a registry on a real port", () => {
  let registry: ScriptedRegistry;
  const registrations: ServiceRegistration[] = [];
  beforeEach(async () => {
    registry = await ScriptedRegistry.start();
  });
  afterEach(async () => {
    await Promise.all(registrations.splice(0).map((registration) => registration.stop()));
    await registry.stop();
  });

  function register(
    overrides: Partial<ConstructorParameters<typeof ServiceRegistration>[0]> = {},
  ): ServiceRegistration {
    const registration = new ServiceRegistration({
      registry: registry.address,
      name: "recorder",
      address: "127.0.0.1:7001",
      component,
      logger: silent,
      retry: { initialMs: 20, maxMs: 80 },
      ...overrides,
    });
    registrations.push(registration);
    return registration.start();
  }

  it("registers its name, address and descriptor, then heartbeats within the granted TTL", async () => {
    const registration = register({ ttlSeconds: 9 });
    const [instanceId, ttl] = await once(registration, "registered");
    expect(instanceId).toBe("instance-1");
    expect(ttl).toBe(1);
    expect(registration.instanceId).toBe("instance-1");
    expect(registry.registers[0]).toMatchObject({
      name: "recorder",
      address: "127.0.0.1:7001",
      ttlSeconds: 9,
      component: {
        name: "flow-test-recorder",
        version: "1.2.3",
        family: 3,
        contracts: [{ name: "consumer_service", major: 1 }],
        acceptedEventTypes: ["order.*"],
        limits: {
          maxBatchSize: 10,
          maxInFlightBatches: 2,
          maxEventBytes: 5_000_000_000n,
          maxMessageBytes: 67_108_864n,
        },
        features: { idempotent: true, ordering: 1 },
      },
    });

    // A heartbeat follows the registration (a third of the TTL later), and the registry knows it.
    const [known] = await once(registration, "heartbeat");
    expect(known).toBe(true);
    await once(registration, "heartbeat");
    expect(registry.heartbeats.map((beat) => beat.instanceId)).toEqual(["instance-1", "instance-1"]);
  });

  it("registers again when a heartbeat answers known=false", async () => {
    registry.heartbeatAnswers = [false];
    const registration = register();
    await once(registration, "registered");
    const [known] = await once(registration, "heartbeat");
    expect(known).toBe(false);
    const [again] = await once(registration, "registered");
    expect(again).toBe("instance-2");
    expect(registry.registers).toHaveLength(2);
  });

  it("retries a failed re-registration as a registration", async () => {
    registry.heartbeatAnswers = [false];
    const registration = register();
    await once(registration, "registered");
    registry.failRegisters = 1;
    await once(registration, "retry");
    const [again] = await once(registration, "registered");
    expect(again).toBe("instance-3");
    expect(registry.registers).toHaveLength(3);
    expect(registry.heartbeats.map((beat) => beat.instanceId)).toEqual(["instance-1"]);
  });

  it("deregisters its instance on stop, and stops heartbeating", async () => {
    const registration = register();
    await once(registration, "registered");
    const deregistered = once(registration, "deregistered");
    await registration.stop();
    expect(await deregistered).toEqual(["instance-1"]);
    expect(registry.deregisters).toEqual([expect.objectContaining({ instanceId: "instance-1" })]);
    expect(registration.instanceId).toBeUndefined();
    expect(registry.heartbeats).toHaveLength(0);
  });

  it("retries a refused Register with growing backoff until it is accepted", async () => {
    registry.failRegisters = 3;
    const registration = register();
    const delays: number[] = [];
    registration.on("retry", (_error: Error, delayMs: number) => delays.push(delayMs));
    await once(registration, "registered");
    expect(registry.registers).toHaveLength(4);
    expect(delays).toHaveLength(3);
    // Ceilings 20, 40, 80 ms, each at least half used.
    expect(delays[0]).toBeGreaterThanOrEqual(10);
    expect(delays[0]).toBeLessThanOrEqual(20);
    expect(delays[1]).toBeGreaterThanOrEqual(20);
    expect(delays[1]).toBeLessThanOrEqual(40);
    expect(delays[2]).toBeGreaterThanOrEqual(40);
    expect(delays[2]).toBeLessThanOrEqual(80);
  });
});

describe("ServiceRegistration when the registry does not answer", () => {
  it("stops promptly, cancelling the call in flight", async () => {
    const registry = await ScriptedRegistry.start();
    registry.hangRegisters = true;
    const registration = new ServiceRegistration({
      registry: registry.address,
      name: "recorder",
      address: "127.0.0.1:7001",
      component,
      logger: silent,
      callTimeoutMs: 60_000,
      stopTimeoutMs: 100,
    }).start();
    try {
      await once(registry, "register");
      // The call in flight has a 60 s timeout: a stop that waited for it would fail by jest's timeout.
      await registration.stop();
      expect(registration.instanceId).toBeUndefined();
      expect(registry.deregisters).toEqual([]);
    } finally {
      await registry.stop();
    }
  });
});

describe("ServiceRegistration when the registry is down", () => {
  it("keeps retrying, capped at the maximum backoff, and stops without throwing", async () => {
    const registration = new ServiceRegistration({
      registry: `127.0.0.1:${await closedPort()}`,
      name: "recorder",
      address: "127.0.0.1:7001",
      component,
      logger: silent,
      retry: { initialMs: 10, maxMs: 30 },
      callTimeoutMs: 500,
    }).start();
    const retries: { error: grpc.ServiceError; delayMs: number }[] = [];
    registration.on("retry", (error: grpc.ServiceError, delayMs: number) => retries.push({ error, delayMs }));
    while (retries.length < 4) await once(registration, "retry");
    expect(retries[0]?.error.code).toBe(grpc.status.UNAVAILABLE);
    expect(retries.every(({ delayMs }) => delayMs <= 30)).toBe(true);
    await expect(registration.stop()).resolves.toBeUndefined();
    expect(registration.instanceId).toBeUndefined();
  });
});

describe("registerFromEnv", () => {
  const service = { component, address: "127.0.0.1:7001", logger: silent };

  it("does nothing without FLOW_REGISTRY", () => {
    expect(registerFromEnv({}, service)).toBeUndefined();
    expect(registerFromEnv({ FLOW_REGISTRY: " ", FLOW_SERVICE_NAME: "x" }, service)).toBeUndefined();
  });

  it("does nothing in a service Core spawned, which belongs to its run alone", () => {
    expect(registerFromEnv({ FLOW_REGISTRY: "127.0.0.1:7000", FLOW_SPAWNED: "1" }, service)).toBeUndefined();
  });

  it("registers under the component's name by default, or FLOW_SERVICE_NAME", async () => {
    const registry = await ScriptedRegistry.start();
    const byDefault = registerFromEnv({ FLOW_REGISTRY: registry.address }, service) as ServiceRegistration;
    const named = registerFromEnv(
      {
        FLOW_REGISTRY: registry.address,
        FLOW_SERVICE_NAME: "orders-sink",
        FLOW_ADVERTISE_ADDRESS: "sink.internal:9000",
      },
      service,
    ) as ServiceRegistration;
    try {
      await Promise.all([once(byDefault, "registered"), once(named, "registered")]);
      const seen = registry.registers.map(({ name, address }) => ({ name, address }));
      expect(seen).toEqual(
        expect.arrayContaining([
          { name: "flow-test-recorder", address: "127.0.0.1:7001" },
          { name: "orders-sink", address: "sink.internal:9000" },
        ]),
      );
    } finally {
      await Promise.all([byDefault.stop(), named.stop()]);
      await registry.stop();
    }
  });

  it("hands out this machine's name instead of a wildcard listening address", () => {
    expect(advertisedAddress("0.0.0.0:5000")).toBe(`${hostname()}:5000`);
    expect(advertisedAddress("[::]:5000")).toBe(`${hostname()}:5000`);
    expect(advertisedAddress("127.0.0.1:5000")).toBe("127.0.0.1:5000");
  });

  it("heartbeats at a third of the TTL", () => {
    expect(heartbeatIntervalMs(30)).toBe(10_000);
    expect(heartbeatIntervalMs(1)).toBe(333);
  });
});

describe("a served service with FLOW_REGISTRY set", () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it("registers its listening address and Describe descriptor, and deregisters on graceful stop", async () => {
    const registry = await ScriptedRegistry.start();
    process.env.FLOW_REGISTRY = registry.address;
    process.env.FLOW_SERVICE_NAME = "sink";
    process.env.FLOW_LOG_LEVEL = "silent";
    const running = await serveConsumer(
      {
        name: "flow-test-sink",
        version: "0.3.0",
        configSchema: { type: "object" },
        open: () => ({ write: async () => undefined }),
      },
      { service: ConsumerServiceService, packageDir, handshake: false, handleSignals: false },
    );
    try {
      if (registry.registers.length === 0) await once(registry, "register");
      expect(registry.registers[0]).toMatchObject({
        name: "sink",
        address: running.address,
        component: {
          name: "flow-test-sink",
          version: "0.3.0",
          family: 3,
          contracts: [{ name: "consumer_service", major: 1 }],
        },
      });
    } finally {
      await running.stop();
      await registry.stop();
    }
    expect(registry.deregisters).toEqual([expect.objectContaining({ instanceId: "instance-1" })]);
  });
});
