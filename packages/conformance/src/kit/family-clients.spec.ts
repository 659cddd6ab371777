import { CORE_CONTRACTS } from "@flow/core";
import * as grpc from "@grpc/grpc-js";
import {
  ConfigureResponse,
  ConsumerServiceService,
  DescribeResponse,
} from "../gen/consumer_service/v1/consumer";
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
