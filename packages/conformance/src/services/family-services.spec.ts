import { join } from "node:path";
import { createEvent, type RunningService, serveConsumer, serveProcessor, serveSource } from "@flow/sdk";
import { checkServingStatus, vendoredContractVersion } from "@flow/sdk/internal";
import { listServices, resolveLikeGrpcurl } from "@flow/testing";
import * as grpc from "@grpc/grpc-js";
import { type ComponentDescriptor, Family } from "../gen/component/v1/component";
import {
  AckStatus,
  ConsumerServiceClient,
  ConsumerServiceService,
} from "../gen/consumer_service/v1/consumer";
import { ProcessorServiceClient, ProcessorServiceService } from "../gen/processor_service/v1/processor";
import { SourceServiceClient, SourceServiceService } from "../gen/source_service/v1/source";

const packageDir = join(__dirname, "..", "..");
const quiet = { packageDir, handshake: false, handleSignals: false } as const;
const schema = {
  type: "object",
  properties: { prefix: { type: "string", default: "x" } },
  additionalProperties: false,
};

interface FamilyClient extends grpc.Client {
  describe(
    request: object,
    callback: (error: grpc.ServiceError | null, response: { component?: ComponentDescriptor }) => void,
  ): unknown;
}

/** One stream exchange per family: the smallest proof that data moves, beyond Describe. */
type Exchange = (client: grpc.Client) => Promise<void>;

function firstResponse<Request, T>(call: grpc.ClientDuplexStream<Request, T>): Promise<T> {
  return new Promise((resolve, reject) => {
    call.once("data", resolve);
    call.once("error", reject);
  });
}

const event = createEvent({ id: "e1", source: "/conformance", type: "com.example.ping", data: { n: 1 } });

const families: {
  family: string;
  serviceName: string;
  familyEnum: Family;
  contract: string;
  start(): Promise<RunningService>;
  connect(address: string): FamilyClient;
  exchange: Exchange;
}[] = [
  {
    family: "source",
    serviceName: "flow.microservices.source_service.v1.SourceService",
    familyEnum: Family.FAMILY_SOURCE,
    contract: "source_service",
    start: () =>
      serveSource(
        {
          name: "conformance-source",
          version: "1.0.0",
          configSchema: schema,
          async *read() {
            yield { events: [event], checkpoint: { position: Buffer.from("1") } };
          },
        },
        { service: SourceServiceService, ...quiet },
      ),
    connect: (address) => new SourceServiceClient(address, grpc.credentials.createInsecure()),
    exchange: async (client) => {
      const call = (client as SourceServiceClient).read();
      const answered = firstResponse(call);
      call.write({
        request: {
          $case: "start",
          value: {
            configJson: "{}",
            initialCredits: 1,
            maxBatchSize: 0,
            lingerMs: 0,
            stageId: "s",
            maxBatchBytes: 0n,
          },
        },
      });
      const response = await answered;
      expect(response.response).toMatchObject({
        $case: "batch",
        value: { sequence: 1n, batch: { events: [{ id: "e1" }] } },
      });
      call.end();
    },
  },
  {
    family: "processor",
    serviceName: "flow.microservices.processor_service.v1.ProcessorService",
    familyEnum: Family.FAMILY_PROCESSOR,
    contract: "processor_service",
    start: () =>
      serveProcessor(
        { name: "conformance-processor", version: "1.0.0", configSchema: schema, process: (input) => input },
        { service: ProcessorServiceService, ...quiet },
      ),
    connect: (address) => new ProcessorServiceClient(address, grpc.credentials.createInsecure()),
    exchange: async (client) => {
      const call = (client as ProcessorServiceClient).process();
      const answered = firstResponse(call);
      call.write({ request: { $case: "start", value: { configJson: "{}", stageId: "p" } } });
      call.write({ request: { $case: "batch", value: { sequence: 5n, batch: { events: [event] } } } });
      expect((await answered).response).toMatchObject({
        $case: "batch",
        value: { inputSequence: 5n, batch: { events: [{ id: "e1" }] } },
      });
      call.end();
    },
  },
  {
    family: "consumer",
    serviceName: "flow.microservices.consumer_service.v1.ConsumerService",
    familyEnum: Family.FAMILY_CONSUMER,
    contract: "consumer_service",
    start: () =>
      serveConsumer(
        { name: "conformance-consumer", version: "1.0.0", configSchema: schema, write: () => undefined },
        { service: ConsumerServiceService, ...quiet },
      ),
    connect: (address) => new ConsumerServiceClient(address, grpc.credentials.createInsecure()),
    exchange: async (client) => {
      const call = (client as ConsumerServiceClient).write();
      const answered = firstResponse(call);
      call.write({ request: { $case: "start", value: { configJson: "{}", stageId: "c" } } });
      call.write({ request: { $case: "batch", value: { sequence: 9n, batch: { events: [event] } } } });
      expect((await answered).response).toMatchObject({
        $case: "ack",
        value: { sequence: 9n, status: AckStatus.ACK_STATUS_WRITTEN },
      });
      call.end();
    },
  },
];

describe.each(families)(
  "$family service on the SDK, over a real port",
  ({ family, serviceName, familyEnum, contract, start, connect, exchange }) => {
    let running: RunningService;
    let client: FamilyClient;
    beforeAll(async () => {
      running = await start();
      client = connect(running.address);
    });
    afterAll(async () => {
      client.close();
      await running.stop();
    });

    it("answers Describe with its family and the contract version it vendored", async () => {
      const { component } = await new Promise<{ component?: ComponentDescriptor }>((resolve, reject) =>
        client.describe({}, (error, response) => (error ? reject(error) : resolve(response))),
      );
      expect(component).toMatchObject({
        name: `conformance-${family}`,
        family: familyEnum,
        // The exact version this package vendored: it moves with every release of the contract.
        contracts: [vendoredContractVersion(packageDir, contract, 1)],
      });
      expect(JSON.parse(component?.configSchema ?? "")).toEqual(schema);
    });

    it("answers grpc.health.v1 Check with SERVING, for the server and for its service", async () => {
      expect(await checkServingStatus(running.address)).toBe("SERVING");
      expect(await checkServingStatus(running.address, { service: serviceName })).toBe("SERVING");
      const unknownService = checkServingStatus(running.address, { service: "no.such.Service" });
      await expect(unknownService).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    });

    it("lists its service and health through grpc.reflection.v1", async () => {
      expect(await listServices(running.address)).toEqual(
        expect.arrayContaining([serviceName, "grpc.health.v1.Health"]),
      );
    });

    it("describes its service through reflection completely enough for grpcurl", async () => {
      const registry = await resolveLikeGrpcurl(running.address, serviceName);
      const service = registry.getService(serviceName);
      expect(service?.methods.map((method) => method.name)).toEqual([
        "Describe",
        "Configure",
        expect.any(String),
      ]);
      const describe = service?.methods.find((method) => method.name === "Describe");
      const component = describe?.output.fields.find((field) => field.name === "component");
      expect(component?.message?.typeName).toBe("flow.microservices.component.v1.ComponentDescriptor");
    });

    it("moves data on its stream", async () => {
      await exchange(client);
    });
  },
);
