import { join } from "node:path";
import {
  consumerImplementation,
  GRPC_DEFAULT_MAX_MESSAGE_BYTES,
  ServiceServer,
  sourceImplementation,
} from "@flow/sdk/internal";
import type * as grpc from "@grpc/grpc-js";
import { parsePipeline } from "../config/load-pipeline";
import { BATCH_REQUEST_FRAMING_BYTES } from "../engine/raw-batch";
import { ComponentDescriptor, Family } from "../gen/component/v1/component";
import { ConsumerServiceService } from "../gen/consumer_service/v1/consumer";
import { SourceServiceService } from "../gen/source_service/v1/source";
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
    expect(result.problems).toEqual([]);
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
