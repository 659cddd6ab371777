import { filesContainingSymbol, listServices, resolveLikeGrpcurl, StreamReader, unary } from "@flow/testing";
import * as grpc from "@grpc/grpc-js";
import type { ConsumerWriter } from "./consumer";
import type { FlowEvent } from "./flow-event";
import {
  type ConsumerServiceClient,
  ConsumerServiceService,
  type DescribeResponse,
  WriteRequest,
  type WriteResponse,
} from "./gen/consumer_service/v1/consumer";
import {
  ProcessorServiceClient,
  ProcessorServiceService,
  type ProcessRequest,
  type ProcessResponse,
} from "./gen/processor_service/v1/processor";
import { ProcessorServiceService as ProcessorServiceServiceV2 } from "./gen/processor_service/v2/processor";
import type { ReadRequest, ReadResponse, SourceServiceClient } from "./gen/source_service/v1/source";
import { checkServingStatus } from "./health-check";
import {
  GRPC_DEFAULT_MAX_MESSAGE_BYTES,
  maxReceiveMessageBytes,
  ServiceServer,
  serviceNameOf,
} from "./service-server";
import {
  type Running,
  runConsumer,
  runProcessor,
  runSource,
  SDK_PROTO_DIR,
} from "./test-support/family-servers";
import { payloadNumbers, testEvent, testEvents } from "./test-support/test-events";

/** A promise with its resolve function, for a test to release work when it chooses. */
function gate<T = void>(): { promise: Promise<T>; open(value: T): void } {
  let open: (value: T) => void = () => undefined;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}

describe("ServiceServer", () => {
  it("serves health and reflection beside the family contract, and answers UNIMPLEMENTED for a missing handler", async () => {
    const server = await ServiceServer.start({
      services: [
        {
          definition: ProcessorServiceService,
          implementation: {
            Describe: (_call: unknown, callback: grpc.sendUnaryData<unknown>) => callback(null, {}),
          },
        },
      ],
      protoDir: SDK_PROTO_DIR,
    });
    const client = new ProcessorServiceClient(server.address, grpc.credentials.createInsecure());
    try {
      expect(server.port).toBeGreaterThan(0);
      expect(server.address).toBe(`127.0.0.1:${server.port}`);
      expect(server.serviceNames).toEqual(["flow.microservices.processor_service.v1.ProcessorService"]);
      expect(await checkServingStatus(server.address)).toBe("SERVING");
      expect(
        await checkServingStatus(server.address, {
          service: "flow.microservices.processor_service.v1.ProcessorService",
        }),
      ).toBe("SERVING");
      expect(await listServices(server.address)).toEqual(
        expect.arrayContaining([
          "flow.microservices.processor_service.v1.ProcessorService",
          "grpc.health.v1.Health",
        ]),
      );
      // Handlers are found by RPC name though ts-proto keys the definition `describe`.
      expect(await unary((done) => client.describe({}, done))).toMatchObject({ component: undefined });
      await expect(
        unary((done) => client.configure({ configJson: "", validateOnly: true, stageId: "" }, done)),
      ).rejects.toMatchObject({
        code: grpc.status.UNIMPLEMENTED,
        details: expect.stringContaining(
          "/flow.microservices.processor_service.v1.ProcessorService/Configure",
        ),
      });
    } finally {
      client.close();
      await server.stop();
    }
  });

  describe("server reflection", () => {
    const V1 = "flow.microservices.processor_service.v1.ProcessorService";
    const V2 = "flow.microservices.processor_service.v2.ProcessorService";
    let server: ServiceServer | undefined;
    afterEach(async () => {
      await server?.stop(2_000);
      server = undefined;
    });

    /** A server registering `definitions` (no handlers: reflection is what is asked) over the SDK's proto/. */
    async function serving(...definitions: grpc.ServiceDefinition[]): Promise<string> {
      server = await ServiceServer.start({
        services: definitions.map((definition) => ({ definition, implementation: {} })),
        protoDir: SDK_PROTO_DIR,
      });
      return server.address;
    }

    it("lists only the services the server registers, though proto/ holds every major and family", async () => {
      // What `serve*({ major: 1 })` registers.
      const address = await serving(ProcessorServiceService);
      expect(await listServices(address)).toEqual([V1, "grpc.health.v1.Health"].sort());
    });

    it("lists both majors when both are registered", async () => {
      const address = await serving(ProcessorServiceService, ProcessorServiceServiceV2);
      expect(await listServices(address)).toEqual([V1, V2, "grpc.health.v1.Health"].sort());
    });

    it("still describes a served method and every message it uses, as buf curl and grpcurl look them up", async () => {
      const address = await serving(ProcessorServiceService);
      const [declaring] = await filesContainingSymbol(address, `${V1}.Process`);
      expect(declaring?.service.map((service) => `${declaring.package}.${service.name}`)).toEqual([V1]);
      const registry = await resolveLikeGrpcurl(address, V1);
      const process = registry.getService(V1)?.methods.find((method) => method.name === "Process");
      expect(process?.input.typeName).toBe("flow.microservices.processor_service.v1.ProcessRequest");
      expect(registry.getMessage("flow.microservices.event.v1.Event")?.typeName).toBe(
        "flow.microservices.event.v1.Event",
      );
      const describe = registry.getService(V1)?.methods.find((method) => method.name === "Describe");
      expect(describe?.output.fields.find((field) => field.name === "component")?.message?.typeName).toBe(
        "flow.microservices.component.v1.ComponentDescriptor",
      );
      expect(
        (await resolveLikeGrpcurl(address, "grpc.health.v1.Health")).getService("grpc.health.v1.Health"),
      ).toBeDefined();
    });

    it("does not describe a major it does not serve: the lookup answers NOT_FOUND, as Describe there answers UNIMPLEMENTED", async () => {
      const address = await serving(ProcessorServiceService);
      await expect(filesContainingSymbol(address, V2)).rejects.toThrow(`Symbol not found: ${V2}`);
      await expect(filesContainingSymbol(address, `${V2}.Describe`)).rejects.toThrow("Symbol not found");
    });
  });

  it("names a service definition by its fully qualified service name", () => {
    expect(serviceNameOf(ConsumerServiceService)).toBe(
      "flow.microservices.consumer_service.v1.ConsumerService",
    );
  });

  describe("the largest message it accepts", () => {
    let running: Running<ConsumerServiceClient> | undefined;
    afterEach(async () => {
      await running?.close();
      running = undefined;
    });

    /** A WriteRequest carrying one event, padded so that it encodes to exactly `bytes`. */
    function writeRequestOf(bytes: number): WriteRequest {
      const event: FlowEvent = testEvent(1);
      const request = (): WriteRequest => ({
        request: { $case: "batch", value: { sequence: 1n, batch: { events: [event] } } },
      });
      // A longer payload can lengthen a varint too: converge on the exact size.
      for (let size = WriteRequest.encode(request()).finish().length; size !== bytes; ) {
        event.data = Buffer.alloc(event.data.length + bytes - size, "x");
        size = WriteRequest.encode(request()).finish().length;
      }
      return request();
    }

    it("announces its real receive limit in Describe and refuses a message one byte over it", async () => {
      const limit = 200_000;
      const consumer = await runConsumer<object>(
        { name: "test-capped", version: "1.0.0", configSchema: { type: "object" }, write: () => undefined },
        { "grpc.max_receive_message_length": limit },
      );
      running = consumer;
      expect(consumer.server.maxMessageBytes).toBe(limit);
      const { component } = await unary<DescribeResponse>((done) => consumer.client.describe({}, done));
      expect(component?.limits?.maxMessageBytes).toBe(BigInt(limit));

      // Exactly the limit is written...
      const fits = consumer.client.write();
      const fitsReader = new StreamReader<WriteRequest, WriteResponse>(fits);
      fits.write({ request: { $case: "start", value: { configJson: "{}", stageId: "capped" } } });
      fits.write(writeRequestOf(limit));
      expect((await fitsReader.next()).response).toMatchObject({ $case: "ack", value: { status: 1 } });
      fits.end();
      expect((await fitsReader.status).code).toBe(grpc.status.OK);

      // ...one byte more fails the stream, as grpc-js enforces the announced figure.
      const over = consumer.client.write();
      const overReader = new StreamReader<WriteRequest, WriteResponse>(over);
      over.write({ request: { $case: "start", value: { configJson: "{}", stageId: "capped" } } });
      over.write(writeRequestOf(limit + 1));
      expect(await overReader.status).toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED });
    });

    it("announces Flow's 64 MiB by default", async () => {
      const consumer = await runConsumer<object>({
        name: "test-default",
        version: "1.0.0",
        configSchema: { type: "object" },
        write: () => undefined,
      });
      running = consumer;
      const { component } = await unary<DescribeResponse>((done) => consumer.client.describe({}, done));
      expect(component?.limits?.maxMessageBytes).toBe(BigInt(64 * 1024 * 1024));
    });

    it("reads grpc-js's own default when no limit is set, and -1 as the most a frame carries", () => {
      expect(maxReceiveMessageBytes({})).toBe(GRPC_DEFAULT_MAX_MESSAGE_BYTES);
      expect(GRPC_DEFAULT_MAX_MESSAGE_BYTES).toBe(4 * 1024 * 1024);
      expect(maxReceiveMessageBytes({ "grpc.max_receive_message_length": -1 })).toBe(0xffff_ffff);
      expect(maxReceiveMessageBytes({ "grpc.max_receive_message_length": 1234 })).toBe(1234);
    });
  });

  describe("graceful stop", () => {
    let running:
      | Running<ConsumerServiceClient>
      | Running<ProcessorServiceClient>
      | Running<SourceServiceClient>
      | undefined;
    afterEach(async () => {
      await running?.close();
      running = undefined;
    });

    it("reports NOT_SERVING, finishes and acknowledges in-flight consumer batches, then closes", async () => {
      const release = gate();
      const started: string[] = [];
      const bothWriting = gate();
      const written: string[] = [];
      const consumer = await runConsumer<object>({
        name: "test-slow",
        version: "1.0.0",
        configSchema: { type: "object" },
        open: (_config, { stageId }): ConsumerWriter => ({
          async write(events) {
            started.push(stageId);
            if (started.length === 2) bothWriting.open();
            await release.promise;
            written.push(`${stageId}: ${payloadNumbers(events).join(",")}`);
          },
        }),
      });
      running = consumer;
      // Two streams, each with a batch the consumer is busy writing when the stop begins.
      const order: string[] = [];
      const streams = ["a", "b"].map((stageId) => {
        const call = consumer.client.write();
        const reader = new StreamReader<WriteRequest, WriteResponse>(call);
        call.on("data", (response: WriteResponse) => order.push(`${stageId} ${response.response?.$case}`));
        call.write({ request: { $case: "start", value: { configJson: "{}", stageId } } });
        call.write({
          request: {
            $case: "batch",
            value: { sequence: 1n, batch: { events: testEvents(stageId === "a" ? 1 : 3, 2) } },
          },
        });
        return reader;
      });
      await bothWriting.promise;

      const stopped = consumer.server.stop(10_000).then(() => order.push("stopped"));
      expect(consumer.server.isStopping).toBe(true);
      expect(await checkServingStatus(consumer.server.address)).toBe("NOT_SERVING");
      expect(
        await checkServingStatus(consumer.server.address, {
          service: "flow.microservices.consumer_service.v1.ConsumerService",
        }),
      ).toBe("NOT_SERVING");
      release.open();

      for (const reader of streams) {
        expect((await reader.next()).response).toMatchObject({
          $case: "ack",
          value: { sequence: 1n, status: 1, reason: "" },
        });
        expect((await reader.status).code).toBe(grpc.status.OK);
      }
      order.push("both ended");
      await stopped;
      expect(written.sort()).toEqual(["a: 1,2", "b: 3,4"]);
      expect(order.sort()).toEqual(["a ack", "b ack", "both ended", "stopped"].sort());
      expect(order.at(-1)).toBe("stopped");
      // Closed: nothing answers any more.
      await expect(checkServingStatus(consumer.server.address)).rejects.toMatchObject({
        code: grpc.status.UNAVAILABLE,
      });
    });

    it("answers every processor batch received before the stop", async () => {
      const release = gate();
      const processing = gate();
      const processor = await runProcessor<object, object>({
        name: "test-slow",
        version: "1.0.0",
        configSchema: { type: "object" },
        async process(event) {
          processing.open();
          await release.promise;
          return event;
        },
      });
      running = processor;
      const call = processor.client.process();
      const reader = new StreamReader<ProcessRequest, ProcessResponse>(call);
      call.write({ request: { $case: "start", value: { configJson: "{}", stageId: "slow" } } });
      call.write({
        request: { $case: "batch", value: { sequence: 1n, batch: { events: testEvents(1, 1) } } },
      });
      await processing.promise;
      const stopped = processor.server.stop(10_000);
      expect(await checkServingStatus(processor.server.address)).toBe("NOT_SERVING");
      release.open();
      const answer = await reader.next();
      expect(answer.response?.value).toMatchObject({ inputSequence: 1n });
      expect(payloadNumbers(answer.response?.value.batch?.events ?? [])).toEqual([1]);
      expect((await reader.status).code).toBe(grpc.status.OK);
      await stopped;
    });

    it("does not wait for a source blocked inside next() that ignores its abort signal", async () => {
      let cleanedUp = false;
      const source = await runSource<object>({
        name: "test-stuck",
        version: "1.0.0",
        configSchema: { type: "object" },
        async *read() {
          try {
            yield { events: testEvents(1, 1), checkpoint: { position: Buffer.from("1") } };
            await new Promise(() => undefined); // e.g. tailing a file that never grows
          } finally {
            cleanedUp = true;
          }
        },
      });
      running = source;
      const call = source.client.read();
      const reader = new StreamReader<ReadRequest, ReadResponse>(call);
      call.write({
        request: {
          $case: "start",
          value: {
            configJson: "{}",
            initialCredits: 5,
            maxBatchSize: 0,
            lingerMs: 0,
            stageId: "stuck",
            maxBatchBytes: 0n,
            checkpoint: undefined,
          },
        },
      });
      expect((await reader.next()).response?.$case).toBe("batch");
      // A grace far beyond the test's timeout: only a stop that does not wait for the source passes.
      await source.server.stop(60_000);
      expect((await reader.status).code).toBe(grpc.status.OK);
      expect(cleanedUp).toBe(false);
    }, 5_000);

    it("ends a source stream with OK and reads no further batch", async () => {
      let pulls = 0;
      const source = await runSource<object>({
        name: "test-endless",
        version: "1.0.0",
        configSchema: { type: "object" },
        async *read(_config, context) {
          for (let n = 1; !context.signal.aborted; n += 1) {
            pulls += 1;
            yield { events: testEvents(n, 1), checkpoint: { position: Buffer.from(String(n)) } };
          }
        },
      });
      running = source;
      const call = source.client.read();
      const reader = new StreamReader<ReadRequest, ReadResponse>(call);
      call.write({
        request: {
          $case: "start",
          value: {
            configJson: "{}",
            initialCredits: 1,
            maxBatchSize: 0,
            lingerMs: 0,
            stageId: "endless",
            maxBatchBytes: 0n,
            checkpoint: undefined,
          },
        },
      });
      expect((await reader.next()).response?.$case).toBe("batch");
      await source.server.stop(10_000);
      expect((await reader.status).code).toBe(grpc.status.OK);
      expect(pulls).toBe(1);
    });
  });
});
