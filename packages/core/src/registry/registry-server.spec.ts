import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { checkHealth } from "@flow/sdk/internal";
import {
  dropSchema,
  listServices,
  resolveLikeGrpcurl,
  uniqueTestSchema,
  urlWithSchema,
  withPostgres,
} from "@flow/testing";
import * as grpc from "@grpc/grpc-js";
import pino from "pino";
import { ComponentDescriptor, Family } from "../gen/component/v1/component";
import {
  type DeregisterRequest,
  type DeregisterResponse,
  type HeartbeatRequest,
  type HeartbeatResponse,
  type ListRunsRequest,
  type ListRunsResponse,
  type ListServicesRequest,
  type ListServicesResponse,
  type RegisterRequest,
  type RegisterResponse,
  RegistryServiceClient,
  RunStatus,
} from "../gen/registry_service/v1/registry";
import { openStateStore } from "../state/open-state-store";
import type { StateStore } from "../state/state-store";
import { type ManualClock, manualClock } from "../test-support/manual-clock";
import { listRegistryServices } from "./registry-client";
import { RegistryServer } from "./registry-server";

const silent = pino({ level: "silent" });

const descriptor = ComponentDescriptor.fromPartial({
  name: "flow-consumer-recorder",
  version: "1.4.0",
  family: Family.FAMILY_CONSUMER,
  contracts: [{ name: "consumer_service", major: 1, minor: 0, patch: 0 }],
  acceptedEventTypes: ["order.*"],
  configSchema: '{"type":"object"}',
  limits: { maxBatchSize: 100, maxInFlightBatches: 4, maxEventBytes: 1_048_576n },
  features: { idempotent: true },
  description: "records ids",
});

/** A unary call of the generated client as a promise. */
function call<Request, Response>(
  client: RegistryServiceClient,
  method: (
    request: Request,
    callback: (error: grpc.ServiceError | null, response: Response) => void,
  ) => grpc.ClientUnaryCall,
  request: Request,
): Promise<Response> {
  return new Promise((resolve, reject) => {
    method.call(client, request, (error, response) => (error ? reject(error) : resolve(response)));
  });
}

/** The registry's RPCs as promises (the generated client's overloads defeat inference). */
function promised(client: RegistryServiceClient) {
  return {
    register: (request: RegisterRequest) =>
      call<RegisterRequest, RegisterResponse>(client, client.register, request),
    heartbeat: (request: HeartbeatRequest) =>
      call<HeartbeatRequest, HeartbeatResponse>(client, client.heartbeat, request),
    deregister: (request: DeregisterRequest) =>
      call<DeregisterRequest, DeregisterResponse>(client, client.deregister, request),
    listServices: (request: ListServicesRequest) =>
      call<ListServicesRequest, ListServicesResponse>(client, client.listServices, request),
    listRuns: (request: ListRunsRequest) =>
      call<ListRunsRequest, ListRunsResponse>(client, client.listRuns, request),
  };
}

interface StoreTarget {
  name: string;
  whenAvailable(body: () => void): void;
  open(clock: ManualClock): Promise<StateStore>;
  cleanUp(): Promise<void>;
}

function sqliteTarget(): StoreTarget {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flow-registry-spec-"));
  let count = 0;
  return {
    name: "SQLite",
    whenAvailable: (body) => body(),
    open: (clock) => openStateStore(`sqlite:state-${++count}.db`, { baseDir: dir, clock: clock.now }),
    cleanUp: async () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

function postgresTarget(): StoreTarget {
  let serverUrl = "";
  const schema = uniqueTestSchema("flow_registry_spec");
  return {
    name: "PostgreSQL",
    whenAvailable: (body) =>
      withPostgres((url) => {
        serverUrl = url;
        body();
      }),
    // A schema emptied per test: the store recreates it on open.
    open: async (clock) => {
      await dropSchema(serverUrl, schema);
      return openStateStore(urlWithSchema(serverUrl, schema), { baseDir: os.tmpdir(), clock: clock.now });
    },
    cleanUp: async () => {
      if (serverUrl) await dropSchema(serverUrl, schema);
    },
  };
}

for (const target of [sqliteTarget(), postgresTarget()]) {
  describe(`the registry server over a real port (${target.name} state store)`, () => {
    target.whenAvailable(() => {
      let clock: ManualClock;
      let store: StateStore;
      let server: RegistryServer;
      let client: RegistryServiceClient;
      let rpc: ReturnType<typeof promised>;

      beforeEach(async () => {
        clock = manualClock();
        store = await target.open(clock);
        server = await RegistryServer.start({ store, logger: silent, port: 0, maxTtlSeconds: 120 });
        client = new RegistryServiceClient(server.address, grpc.credentials.createInsecure());
        rpc = promised(client);
      });
      afterEach(async () => {
        client.close();
        await server.stop(100);
        await store.close();
      });
      afterAll(() => target.cleanUp());

      const register = (name = "recorder", address = "127.0.0.1:7001", ttlSeconds = 10) =>
        rpc.register({ name, address, component: descriptor, ttlSeconds });
      const list = (name = "") => rpc.listServices({ name });

      it("listens on an OS-chosen port with grpc.health.v1 and reflection", async () => {
        expect(server.address).toMatch(/^127\.0\.0\.1:\d+$/);
        expect(server.port).toBeGreaterThan(0);
        expect(await checkHealth(server.address, 2000)).toBe("serving");
        expect(
          await checkHealth(server.address, 2000, "flow.microservices.registry_service.v1.RegistryService"),
        ).toBe("serving");
        const service = "flow.microservices.registry_service.v1.RegistryService";
        expect(await listServices(server.address)).toEqual(
          expect.arrayContaining([service, "grpc.health.v1.Health"]),
        );
        // grpcurl can describe it completely: the registry file and the component file it imports.
        const described = await resolveLikeGrpcurl(server.address, service);
        expect(described.getService(service)?.methods.map((method) => method.name)).toEqual([
          "Register",
          "Heartbeat",
          "Deregister",
          "ListServices",
          "ListRuns",
        ]);
        expect(described.getMessage("flow.microservices.component.v1.ComponentDescriptor")).toBeDefined();
      });

      it("registers an instance with its descriptor, and lists it", async () => {
        const registered = await register();
        expect(registered.instanceId).not.toBe("");
        expect(registered.ttlSeconds).toBe(10);

        const { services } = await list();
        expect(services).toHaveLength(1);
        const [service] = services;
        expect(service).toMatchObject({
          instanceId: registered.instanceId,
          name: "recorder",
          address: "127.0.0.1:7001",
        });
        expect(service?.component).toEqual(descriptor);
        const now = BigInt(clock.now().getTime());
        expect(service?.registeredAtMs).toBe(now);
        expect(service?.lastHeartbeatMs).toBe(now);
        expect(service?.expiresAtMs).toBe(now + 10_000n);
      });

      it("grants the default TTL for 0 and caps long ones", async () => {
        expect((await register("a", "127.0.0.1:7001", 0)).ttlSeconds).toBe(30);
        expect((await register("b", "127.0.0.1:7002", 86_400)).ttlSeconds).toBe(120);
      });

      it("refreshes the same name and address instead of adding a second instance", async () => {
        const first = await register();
        clock.advance(5_000);
        const again = await register();
        expect(again.instanceId).toBe(first.instanceId);
        expect((await list()).services).toHaveLength(1);
      });

      it("keeps an instance alive with heartbeats and forgets it when they stop", async () => {
        const { instanceId } = await register();
        clock.advance(8_000);
        expect(await rpc.heartbeat({ instanceId })).toEqual(expect.objectContaining({ known: true }));
        clock.advance(8_000);
        // 16 s after registering, alive thanks to the heartbeat at 8 s.
        expect((await list()).services.map((service) => service.instanceId)).toEqual([instanceId]);

        clock.advance(2_001);
        expect((await list()).services).toEqual([]);
        expect(await rpc.heartbeat({ instanceId })).toEqual(expect.objectContaining({ known: false }));

        // Registering again after expiry gives a new instance.
        const back = await register();
        expect(back.instanceId).not.toBe(instanceId);
        expect((await list()).services.map((service) => service.instanceId)).toEqual([back.instanceId]);
      });

      it("deregisters an instance", async () => {
        const { instanceId } = await register();
        await rpc.deregister({ instanceId });
        expect((await list()).services).toEqual([]);
        expect(await rpc.heartbeat({ instanceId })).toEqual(expect.objectContaining({ known: false }));
        // Deregistering twice is not an error: a service's retry after a lost answer must succeed.
        await expect(rpc.deregister({ instanceId })).resolves.toBeDefined();
      });

      it("lists the instances of one name, or all", async () => {
        await register("recorder", "127.0.0.1:7001");
        clock.advance(1);
        await register("recorder", "127.0.0.1:7002");
        await register("enricher", "127.0.0.1:7003");
        expect((await list("recorder")).services.map((service) => service.address)).toEqual([
          "127.0.0.1:7001",
          "127.0.0.1:7002",
        ]);
        expect((await list()).services.map((service) => service.name)).toEqual([
          "enricher",
          "recorder",
          "recorder",
        ]);
        expect(await listRegistryServices(server.address, "enricher")).toEqual([
          expect.objectContaining({
            name: "enricher",
            address: "127.0.0.1:7003",
            ttlSeconds: 10,
            component: expect.objectContaining({ name: "flow-consumer-recorder", family: "FAMILY_CONSUMER" }),
          }),
        ]);
      });

      it("refuses an empty or spaced name and a malformed address, saying why", async () => {
        await expect(register("")).rejects.toMatchObject({
          code: grpc.status.INVALID_ARGUMENT,
          details: expect.stringContaining("name"),
        });
        await expect(register("two words")).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
        for (const address of ["", "localhost", "localhost:0", "localhost:70000", "::1:5000"]) {
          await expect(register("recorder", address)).rejects.toMatchObject({
            code: grpc.status.INVALID_ARGUMENT,
            details: expect.stringContaining("address"),
          });
        }
        for (const address of ["[::1]:5000", "svc.internal:5000", "unix:/tmp/svc.sock"]) {
          await expect(register("recorder", address)).resolves.toBeDefined();
        }
        await expect(rpc.heartbeat({ instanceId: "" })).rejects.toMatchObject({
          code: grpc.status.INVALID_ARGUMENT,
        });
      });

      it("lists pipeline runs from the run history, newest first, with their stages", async () => {
        const first = await store.startRun("orders", "/p/orders.yaml");
        await store.saveStageStats(first, [
          {
            stageId: "gen",
            eventsIn: 0,
            eventsOut: 10,
            deadLetters: 0,
            restarts: 0,
            errors: 0,
            health: "serving",
          },
          {
            stageId: "db",
            eventsIn: 10,
            eventsOut: 10,
            deadLetters: 1,
            restarts: 2,
            errors: 0,
            health: "serving",
          },
        ]);
        clock.advance(1_000);
        await store.finishRun(first, "succeeded");
        clock.advance(1_000);
        const second = await store.startRun("orders", "/p/orders.yaml");
        clock.advance(1_000);
        await store.finishRun(second, "failed", "consumer db unreachable");
        clock.advance(1_000);
        const third = await store.startRun("audit", "/p/audit.yaml");

        const { runs } = await rpc.listRuns({ pipeline: "", limit: 0 });
        expect(runs.map((run) => [run.runId, run.status])).toEqual([
          [third, RunStatus.RUN_STATUS_RUNNING],
          [second, RunStatus.RUN_STATUS_FAILED],
          [first, RunStatus.RUN_STATUS_SUCCEEDED],
        ]);
        expect(runs[0]?.endedAtMs).toBe(0n);
        expect(runs[1]?.error).toBe("consumer db unreachable");
        const started = clock.now().getTime() - 4_000;
        expect(runs[2]).toMatchObject({
          pipeline: "orders",
          startedAtMs: BigInt(started),
          endedAtMs: BigInt(started + 1_000),
          stages: [
            expect.objectContaining({ stageId: "gen", eventsIn: 0n, eventsOut: 10n }),
            expect.objectContaining({
              stageId: "db",
              eventsIn: 10n,
              eventsOut: 10n,
              deadLetters: 1n,
              restarts: 2n,
            }),
          ],
        });

        const orders = await rpc.listRuns({ pipeline: "orders", limit: 1 });
        expect(orders.runs.map((run) => run.runId)).toEqual([second]);
      });

      it("stops: health turns away and calls fail", async () => {
        await server.stop(100);
        expect(await checkHealth(server.address, 1000)).toBe("unreachable");
        await expect(list()).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
      });
    });
  });
}

describe("listRegistryServices", () => {
  it("says which registry it could not reach, with a hint", async () => {
    // Nothing listens on port 1 of the loopback interface.
    await expect(listRegistryServices("127.0.0.1:1", undefined, 2000)).rejects.toMatchObject({
      message: expect.stringContaining("cannot list the services of the registry at 127.0.0.1:1"),
      hint: expect.stringContaining("flow registry serve"),
    });
  });
});
