import { CORE_CONTRACTS } from "@flow/core";
import * as grpc from "@grpc/grpc-js";
import {
  ConfigureResponse,
  ConsumerServiceService,
  DescribeResponse,
} from "../gen/consumer_service/v1/consumer";
import * as consumerV2 from "../gen/consumer_service/v2/consumer";
import * as processorV2 from "../gen/processor_service/v2/processor";
import * as sourceV2 from "../gen/source_service/v2/source";
import { eventMajor, UNKNOWN_FIELD_BYTES } from "./event-majors";
import {
  ALL_KIT_MAJORS,
  describeAt,
  describe as describeService,
  type FamilyClient,
  familyClient,
  KIT_CONTRACTS,
  kitMajors,
} from "./family-clients";

/** A consumer_service server whose Describe names it, on `port` (0: one the OS gives). */
async function consumerNamed(name: string, port: number): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server();
  server.addService(ConsumerServiceService, {
    describe: (_call: unknown, done: grpc.sendUnaryData<DescribeResponse>) =>
      done(null, DescribeResponse.fromPartial({ component: { name } })),
    configure: (_call: unknown, done: grpc.sendUnaryData<ConfigureResponse>) =>
      done(null, ConfigureResponse.fromPartial({ accepted: true })),
    write: (call: grpc.ServerDuplexStream<unknown, unknown>) => call.end(),
  });
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (error, actual) =>
      error ? reject(error) : resolve(actual),
    ),
  );
  return { server, port: bound };
}

const describeOn = (client: FamilyClient): Promise<unknown> =>
  new Promise((resolve) => client.describe({}, new grpc.Metadata(), {}, (error) => resolve(error)));

// The kit starts a service again and again, each on a port the OS gives it, and a new one may get
// the port of one the kit just killed while a channel of an earlier check still knows that port.
it("dials a service on the port of a dead one afresh, not through the dead one's subchannel", async () => {
  const first = await consumerNamed("first", 0);
  const target = `127.0.0.1:${first.port}`;
  const earlier = familyClient("consumer", target);
  try {
    await describeOn(earlier);
    first.server.forceShutdown();
    // Nothing listens now: the earlier channel's subchannel fails to connect and backs off.
    await describeOn(earlier);
    await describeOn(earlier);
    const second = await consumerNamed("second", first.port);
    try {
      // With grpc-js's process-wide subchannel pool this fails at once: "No connection established".
      expect((await describeService("consumer", target, 10_000)).name).toBe("second");
    } finally {
      second.server.forceShutdown();
    }
  } finally {
    earlier.close();
  }
});

it("speaks every family contract major Core speaks, named from the generated code", () => {
  for (const family of ["source", "processor", "consumer"] as const)
    expect({ name: `${family}_service`, majors: kitMajors(family) }).toEqual(CORE_CONTRACTS[family]);
  expect(ALL_KIT_MAJORS).toEqual([1, 2]);
  expect(KIT_CONTRACTS.find((c) => c.family === "consumer" && c.major === 2)?.service).toBe(
    "flow.microservices.consumer_service.v2.ConsumerService",
  );
});

it("tells a major the service does not serve (UNIMPLEMENTED) from one it serves", async () => {
  const v1Only = await consumerNamed("v1-only", 0);
  const target = `127.0.0.1:${v1Only.port}`;
  try {
    expect(await describeAt("consumer", target, 1, 10_000)).toMatchObject({ component: { name: "v1-only" } });
    expect(await describeAt("consumer", target, 2, 10_000)).toEqual({ unimplemented: true });
  } finally {
    v1Only.server.forceShutdown();
  }
});

/**
 * A server of a family's v2 contract, with the generated definition as it is (no help for a
 * message of an older shape), that hands over the first message its data stream receives.
 */
async function firstMessageOn(
  definition: grpc.ServiceDefinition,
  stream: string,
): Promise<{ target: string; first: Promise<unknown>; stop: () => void }> {
  const server = new grpc.Server();
  let received: (message: unknown) => void = () => undefined;
  const first = new Promise<unknown>((resolve) => {
    received = resolve;
  });
  server.addService(definition, {
    describe: () => undefined,
    configure: () => undefined,
    ingest: () => undefined,
    [stream]: (call: grpc.ServerDuplexStream<unknown, unknown>) => {
      call.once("data", (message) => {
        received(message);
        call.end();
      });
      call.on("error", () => undefined);
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return { target: `127.0.0.1:${port}`, first, stop: () => server.forceShutdown() };
}

// The kit writes every major's stream messages in v1's shape; v2.1 added fields to them
// (ReadStart.peers, ProcessStart.peers) that the generated v2 encoder iterates.
describe("a kit client at v2 writes a message of v1's shape", () => {
  const [event] = eventMajor(2).sampleEvents([{ data: { n: 1 } }], "completing");
  it.each([
    {
      family: "source" as const,
      definition: sourceV2.SourceServiceService,
      stream: "read",
      message: {
        request: { $case: "start", value: { configJson: "{}", stageId: "conform", initialCredits: 2 } },
      },
      expected: { request: { $case: "start", value: { configJson: "{}", initialCredits: 2, peers: [] } } },
    },
    {
      family: "processor" as const,
      definition: processorV2.ProcessorServiceService,
      stream: "process",
      message: { request: { $case: "start", value: { configJson: "{}", stageId: "conform" } } },
      expected: { request: { $case: "start", value: { configJson: "{}", stageId: "conform", peers: [] } } },
    },
    {
      family: "consumer" as const,
      definition: consumerV2.ConsumerServiceService,
      stream: "write",
      message: { request: { $case: "batch", value: { sequence: 3n, batch: { events: [event] } } } },
      expected: { request: { $case: "batch", value: { sequence: 3n, ref: undefined } } },
    },
  ])("on $family's stream: the fields a later minor added at their defaults", async (example) => {
    const server = await firstMessageOn(example.definition, example.stream);
    const client = familyClient(example.family, server.target, 2);
    try {
      const call = (client[example.stream as "read"] as () => grpc.ClientDuplexStream<unknown, unknown>).call(
        client,
      );
      const ended = new Promise<string>((resolve) => {
        call.on("error", (error: grpc.ServiceError) => resolve(error.details));
        call.on("end", () => resolve("ok"));
        call.on("data", () => undefined);
      });
      call.write(example.message);
      const received = await Promise.race([server.first, ended]);
      expect(received).toMatchObject(example.expected);
      await ended;
    } finally {
      client.close();
      server.stop();
    }
  });

  it("keeps the fields an event carries that the contract does not know", async () => {
    const server = await firstMessageOn(consumerV2.ConsumerServiceService, "write");
    const client = familyClient("consumer", server.target, 2);
    try {
      const call = client.write();
      call.on("error", () => undefined);
      call.write({ request: { $case: "batch", value: { sequence: 1n, batch: { events: [event] } } } });
      const received = (await server.first) as consumerV2.WriteRequest;
      const batch = received.request?.$case === "batch" ? received.request.value.batch : undefined;
      expect(batch?.events).toHaveLength(1);
      expect(
        eventMajor(2)
          .encode(batch?.events[0] as never)
          .includes(UNKNOWN_FIELD_BYTES),
      ).toBe(true);
    } finally {
      client.close();
      server.stop();
    }
  });
});
