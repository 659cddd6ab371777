import { join } from "node:path";
import {
  consumerImplementation,
  GRPC_DEFAULT_MAX_MESSAGE_BYTES,
  ServiceServer,
  sourceImplementation,
} from "@flow/sdk/internal";
import type * as grpc from "@grpc/grpc-js";
import * as grpcJs from "@grpc/grpc-js";
import { parsePipeline } from "../config/load-pipeline";
import { BATCH_REQUEST_FRAMING_BYTES } from "../engine/stream-codecs";
import { ComponentDescriptor, Family } from "../gen/component/v1/component";
import { ConsumerServiceService } from "../gen/consumer_service/v1/consumer";
import { SourceServiceService } from "../gen/source_service/v1/source";
import { listenBare } from "../test-support/bare-grpc-server";
import { negotiate } from "./negotiate";
import { CORE_MAX_RECEIVE_BYTES, SOURCE_BATCH_RESERVE_BYTES } from "./stage-byte-limit";

const PROTO_DIR = join(__dirname, "..", "..", "proto");
const CONTRACT = (name: string) => ({ name, major: 1, minor: 0, patch: 0 });
const info = { name: "test", version: "1.0.0", configSchema: { type: "object" } };

/** A consumer built before component 1.1.0: its Describe has no max_message_bytes. */
const legacyConsumer: grpc.UntypedServiceImplementation = {
  Describe: (_call: unknown, callback: grpc.sendUnaryData<unknown>) =>
    callback(null, {
      component: ComponentDescriptor.fromPartial({
        name: "legacy",
        version: "0.9.0",
        family: Family.FAMILY_CONSUMER,
        contracts: [CONTRACT("consumer_service")],
        limits: { maxBatchSize: 0, maxInFlightBatches: 0, maxEventBytes: 0n },
      }),
    }),
  Configure: (_call: unknown, callback: grpc.sendUnaryData<unknown>) =>
    callback(null, { accepted: true, issues: [] }),
};

describe("negotiate: each stage's byte limit", () => {
  const servers: ServiceServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop(1_000)));
  });

  async function serve(
    definition: grpc.ServiceDefinition,
    implementation: (server: ServiceServer) => grpc.UntypedServiceImplementation,
    serverOptions?: grpc.ServerOptions,
  ): Promise<string> {
    const server = await ServiceServer.start({
      services: [{ definition, implementation }],
      protoDir: PROTO_DIR,
      serverOptions,
    });
    servers.push(server);
    return server.address;
  }

  it("stores the announced limit, assumes gRPC's 4 MiB for a service that announces none, and keeps under batch.maxBytes", async () => {
    const source = await serve(SourceServiceService, (server) =>
      sourceImplementation({ ...info, async *read() {} }, CONTRACT("source_service"), server),
    );
    const consumer = (server: ServiceServer) =>
      consumerImplementation({ ...info, write: () => undefined }, CONTRACT("consumer_service"), server);
    const capped = await serve(ConsumerServiceService, consumer, {
      "grpc.max_receive_message_length": 1_000_000,
    });
    const legacy = await serve(ConsumerServiceService, () => legacyConsumer);
    const small = await serve(ConsumerServiceService, consumer);
    const plan = parsePipeline(
      `apiVersion: flow/v1
kind: Pipeline
metadata: { name: limits }
sources:
  - { id: src, address: "${source}" }
consumers:
  - { id: capped, address: "${capped}", inputs: [src] }
  - { id: legacy, address: "${legacy}", inputs: [src] }
  - { id: small, address: "${small}", inputs: [src], batch: { maxBytes: 1000 } }
`,
      { file: "limits.yaml", baseDir: __dirname, env: {} },
    );
    // Stages found by address: negotiation dials each as it is.
    const endpoints = new Map(
      plan.stages.map((stage) => {
        const address = stage.locator.kind === "address" ? stage.locator.address : "";
        return [stage.id, { target: address, description: `address ${address}` }];
      }),
    );

    const result = await negotiate(plan, endpoints);
    expect(result.problems).toEqual([
      {
        stageId: "legacy",
        severity: "warning",
        message:
          '"legacy" declares no config schema (Describe\'s config_schema is empty), so Core cannot check its config',
      },
    ]);
    expect(Object.fromEntries(result.limits)).toEqual({
      src: {
        messageBytes: CORE_MAX_RECEIVE_BYTES,
        messageFrom: "core",
        batchBytes: CORE_MAX_RECEIVE_BYTES - SOURCE_BATCH_RESERVE_BYTES,
        boundBy: "message",
      },
      capped: {
        messageBytes: 1_000_000,
        messageFrom: "announced",
        batchBytes: 1_000_000 - BATCH_REQUEST_FRAMING_BYTES,
        boundBy: "message",
      },
      legacy: {
        messageBytes: GRPC_DEFAULT_MAX_MESSAGE_BYTES,
        messageFrom: "assumed",
        batchBytes: GRPC_DEFAULT_MAX_MESSAGE_BYTES - BATCH_REQUEST_FRAMING_BYTES,
        boundBy: "message",
      },
      small: {
        messageBytes: 64 * 1024 * 1024,
        messageFrom: "announced",
        batchBytes: 1000,
        boundBy: "batch.maxBytes",
      },
    });
  });
});

describe("negotiate: what Core checks of a service itself", () => {
  const servers: grpc.Server[] = [];
  afterAll(() => {
    for (const server of servers) server.forceShutdown();
  });

  /** A consumer on a bare grpc-js server: no health service unless `withHealth`. */
  async function bareConsumer(options: { schema: string; withHealth: boolean }): Promise<string> {
    const server = new grpcJs.Server();
    server.addService(ConsumerServiceService, {
      configure: legacyConsumer.Configure as grpc.UntypedHandleCall,
      write: (call: grpc.ServerDuplexStream<unknown, unknown>) => call.end(),
      describe: (_call: unknown, callback: grpc.sendUnaryData<unknown>) =>
        callback(null, {
          component: ComponentDescriptor.fromPartial({
            name: "lenient",
            version: "1.0.0",
            family: Family.FAMILY_CONSUMER,
            contracts: [CONTRACT("consumer_service")],
            configSchema: options.schema,
          }),
        }),
    });
    servers.push(server);
    return listenBare(server, options.withHealth);
  }

  async function problemsOf(address: string, config: string, handshake?: { name: string; major: number }) {
    const plan = parsePipeline(
      `apiVersion: flow/v1
kind: Pipeline
metadata: { name: checks }
sources:
  - { id: src, address: "127.0.0.1:1" }
consumers:
  - { id: sink, address: "${address}", inputs: [src], config: ${config} }
`,
      { file: "checks.yaml", baseDir: __dirname, env: {} },
    );
    const sink = plan.stages.find((stage) => stage.id === "sink") as (typeof plan.stages)[number];
    const only = { ...plan, stages: [sink] };
    const endpoints = new Map([
      ["sink", { target: address, description: `address ${address}`, handshakeContract: handshake }],
    ]);
    return (await negotiate(only, endpoints)).problems.map(({ message, pointer }) => ({ message, pointer }));
  }

  const strict = JSON.stringify({
    type: "object",
    properties: { table: { type: "string" } },
    required: ["table"],
    additionalProperties: false,
  });

  it("validates the config against the declared schema when the service's Configure accepts anything", async () => {
    const address = await bareConsumer({ schema: strict, withHealth: true });
    expect(await problemsOf(address, "{ bogus: 1 }")).toEqual([
      { message: 'required property "table" is missing', pointer: "/table" },
      {
        message: 'unknown property "bogus" (check its spelling against the service\'s schema)',
        pointer: "/bogus",
      },
    ]);
    expect(await problemsOf(address, "{ table: t }")).toEqual([]);
  });

  it("refuses a declared schema that is not valid JSON Schema", async () => {
    const address = await bareConsumer({ schema: '{"type": "objekt"}', withHealth: true });
    const [found] = await problemsOf(address, "{}");
    expect(found?.message).toMatch(/^"lenient" declares a config schema that is not a valid JSON Schema \(/);
  });

  it("names a missing grpc.health.v1 service instead of letting the run kill it as unreachable", async () => {
    const address = await bareConsumer({ schema: strict, withHealth: false });
    expect(await problemsOf(address, "{ table: t }")).toEqual([
      {
        message: expect.stringMatching(
          /^it does not implement grpc\.health\.v1 \(Health\/Check answered UNIMPLEMENTED\)/,
        ),
        pointer: undefined,
      },
    ]);
  });

  it("refuses a handshake that names another contract than Describe", async () => {
    const address = await bareConsumer({ schema: strict, withHealth: true });
    expect(await problemsOf(address, "{ table: t }", { name: "consumer_service", major: 1 })).toEqual([]);
    expect(await problemsOf(address, "{ table: t }", { name: "processor_service", major: 1 })).toEqual([
      {
        message:
          "its handshake line names processor_service v1, but Describe says it serves consumer_service v1; the handshake must name the consumer_service major it serves",
        pointer: undefined,
      },
    ]);
  });
});
