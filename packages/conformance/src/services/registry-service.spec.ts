import { join } from "node:path";
import { checkServingStatus, ServiceServer } from "@flow/sdk/internal";
import { listServices, resolveLikeGrpcurl } from "@flow/testing";
import * as grpc from "@grpc/grpc-js";
import {
  type PipelineRun,
  RegistryServiceClient,
  RegistryServiceService,
  RunStatus,
} from "../gen/registry_service/v1/registry";
import { inMemoryRegistry } from "../test-support/in-memory-registry";
import { sampleDescriptor } from "../test-support/samples/component-samples";

const SERVICE = "flow.microservices.registry_service.v1.RegistryService";

/** A unary call as a promise: `call((done) => client.register(request, done))`. */
function call<Response>(
  invoke: (done: (error: grpc.ServiceError | null, response: Response) => void) => unknown,
): Promise<Response> {
  return new Promise((resolve, reject) => {
    invoke((error, response) => (error ? reject(error) : resolve(response)));
  });
}

const run = (runId: string, pipeline: string, startedAtMs: bigint, status: RunStatus): PipelineRun => ({
  runId,
  pipeline,
  status,
  startedAtMs,
  endedAtMs: status === RunStatus.RUN_STATUS_RUNNING ? 0n : startedAtMs + 1000n,
  stages: [
    { stageId: "sink", eventsIn: 2n ** 53n + 1n, eventsOut: 2n ** 53n + 1n, deadLetters: 0n, restarts: 1n },
  ],
  error: status === RunStatus.RUN_STATUS_FAILED ? "sink crashed" : "",
});

describe("registry_service on a grpc-js server (hand implementation), over a real port", () => {
  let clock = 1_700_000_000_000;
  let server: ServiceServer;
  let client: RegistryServiceClient;

  beforeAll(async () => {
    const implementation = inMemoryRegistry({
      now: () => clock,
      runs: [
        run("r1", "quickstart", 1_000n, RunStatus.RUN_STATUS_SUCCEEDED),
        run("r3", "quickstart", 3_000n, RunStatus.RUN_STATUS_RUNNING),
        run("r2", "orders", 2_000n, RunStatus.RUN_STATUS_FAILED),
      ],
    });
    // ServiceServer is contract-agnostic: the same health, reflection and graceful stop as the families.
    server = await ServiceServer.start({
      services: [{ definition: RegistryServiceService, implementation }],
      protoDir: join(__dirname, "..", "..", "proto"),
    });
    client = new RegistryServiceClient(server.address, grpc.credentials.createInsecure());
  });
  afterAll(async () => {
    client.close();
    await server.stop();
  });

  it("registers, lists, keeps alive with heartbeats, expires and deregisters instances", async () => {
    const registered = await call<{ instanceId: string; ttlSeconds: number }>((done) =>
      client.register(
        { name: "orders-sink", address: "127.0.0.1:7001", component: sampleDescriptor, ttlSeconds: 10 },
        done,
      ),
    );
    expect(registered.ttlSeconds).toBe(10);
    const other = await call<{ instanceId: string; ttlSeconds: number }>((done) =>
      client.register(
        { name: "orders-source", address: "127.0.0.1:7002", component: undefined, ttlSeconds: 0 },
        done,
      ),
    );
    expect(other.ttlSeconds).toBe(30);

    const sinks = await call<{
      services: { instanceId: string; component?: unknown; expiresAtMs: bigint }[];
    }>((done) => client.listServices({ name: "orders-sink" }, done));
    expect(sinks.services).toHaveLength(1);
    expect(sinks.services[0]).toMatchObject({
      instanceId: registered.instanceId,
      expiresAtMs: BigInt(clock + 10_000),
    });
    expect(sinks.services[0]?.component).toMatchObject({
      name: sampleDescriptor.name,
      limits: { maxEventBytes: 2n ** 64n - 1n },
    });

    clock += 9_000;
    expect(
      await call<{ known: boolean }>((done) => client.heartbeat({ instanceId: registered.instanceId }, done)),
    ).toMatchObject({ known: true });
    clock += 9_000; // 18 s after registering, 9 s after the heartbeat: still alive
    expect(
      (await call<{ services: unknown[] }>((done) => client.listServices({ name: "" }, done))).services,
    ).toHaveLength(2);
    clock += 2_000; // the heartbeat's 10 s are over
    expect(
      await call<{ known: boolean }>((done) => client.heartbeat({ instanceId: registered.instanceId }, done)),
    ).toMatchObject({ known: false });

    await call((done) => client.deregister({ instanceId: other.instanceId }, done));
    expect(
      (await call<{ services: unknown[] }>((done) => client.listServices({ name: "" }, done))).services,
    ).toEqual([]);
  });

  it("refuses a registration without a name or an address", async () => {
    await expect(
      call((done) =>
        client.register({ name: "", address: "127.0.0.1:1", component: undefined, ttlSeconds: 0 }, done),
      ),
    ).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
  });

  it("lists pipeline runs newest first, by pipeline, up to a limit", async () => {
    const all = await call<{ runs: PipelineRun[] }>((done) =>
      client.listRuns({ pipeline: "", limit: 0 }, done),
    );
    expect(all.runs.map((r) => r.runId)).toEqual(["r3", "r2", "r1"]);
    expect(all.runs[2]?.stages[0]?.eventsIn).toBe(2n ** 53n + 1n);
    const quickstart = await call<{ runs: PipelineRun[] }>((done) =>
      client.listRuns({ pipeline: "quickstart", limit: 1 }, done),
    );
    expect(quickstart.runs.map((r) => [r.runId, r.status])).toEqual([["r3", RunStatus.RUN_STATUS_RUNNING]]);
  });

  it("answers grpc.health.v1 Check with SERVING", async () => {
    expect(await checkServingStatus(server.address)).toBe("SERVING");
    expect(await checkServingStatus(server.address, { service: SERVICE })).toBe("SERVING");
  });

  it("lists the registry and health through grpc.reflection.v1, and describes it completely", async () => {
    expect(await listServices(server.address)).toEqual(
      expect.arrayContaining([SERVICE, "grpc.health.v1.Health"]),
    );
    const registry = await resolveLikeGrpcurl(server.address, SERVICE);
    expect(registry.getService(SERVICE)?.methods.map((m) => m.name)).toEqual([
      "Register",
      "Heartbeat",
      "Deregister",
      "ListServices",
      "ListRuns",
    ]);
  });
});
