import * as grpc from "@grpc/grpc-js";
import { familyContract } from "../clients/family-contracts";
import { parsePipeline } from "../config/load-pipeline";
import { ComponentDescriptor, type ContractVersion, Family } from "../gen/component/v1/component";
import { listenBare } from "../test-support/bare-grpc-server";
import { negotiate } from "./negotiate";

// Which contract major Core and a service agree on: a real gRPC server per service, serving the
// consumer contract at the majors a test asks for.

const version = (major: number, minor = 0): ContractVersion => ({
  name: "consumer_service",
  major,
  minor,
  patch: 1,
});

const servers: grpc.Server[] = [];
afterAll(() => {
  for (const server of servers) server.forceShutdown();
});

/** A consumer serving `majors` (UNIMPLEMENTED on the others), whose Describe lists `listed`. */
async function consumerServing(majors: number[], listed: ContractVersion[] = majors.map((m) => version(m))) {
  const server = new grpc.Server();
  const answered: number[] = [];
  for (const major of majors) {
    server.addService(familyContract("consumer", major).service, {
      describe: (_call: unknown, callback: grpc.sendUnaryData<unknown>) => {
        answered.push(major);
        callback(null, {
          component: ComponentDescriptor.fromPartial({
            name: `sink-v${majors.join("-v")}`,
            version: "1.0.0",
            family: Family.FAMILY_CONSUMER,
            contracts: listed,
            configSchema: '{"type":"object"}',
          }),
        });
      },
      configure: (_call: unknown, callback: grpc.sendUnaryData<unknown>) =>
        callback(null, { accepted: true, issues: [] }),
      write: (call: grpc.ServerDuplexStream<unknown, unknown>) => call.end(),
    });
  }
  servers.push(server);
  return { address: await listenBare(server), answered };
}

async function negotiated(
  address: string,
  options: { pin?: number; handshake?: { name: string; major: number } } = {},
) {
  const plan = parsePipeline(
    `apiVersion: flow/v1
kind: Pipeline
metadata: { name: majors }
sources:
  - { id: src, address: "127.0.0.1:1" }
consumers:
  - { id: sink, address: "${address}", inputs: [src]${options.pin ? `, contractMajor: ${options.pin}` : ""} }
`,
    { file: "majors.yaml", baseDir: __dirname, env: {} },
  );
  const sink = plan.stages.filter((stage) => stage.id === "sink");
  const endpoints = new Map([
    ["sink", { target: address, description: `address ${address}`, handshakeContract: options.handshake }],
  ]);
  const result = await negotiate({ ...plan, stages: sink }, endpoints);
  return { contract: result.contracts.get("sink"), problems: result.problems.map((p) => p.message) };
}

describe("negotiating the contract major with a service found by address", () => {
  it("speaks v1 with a service serving v1 only: Describe on v2 answers UNIMPLEMENTED, v1 is asked next", async () => {
    const { address, answered } = await consumerServing([1]);
    expect(await negotiated(address)).toEqual({
      contract: { name: "consumer_service", major: 1, version: "1.0.1" },
      problems: [],
    });
    expect(answered).toEqual([1]);
  });

  it("speaks v2 with a service serving v2 only", async () => {
    const { address } = await consumerServing([2]);
    expect(await negotiated(address)).toEqual({
      contract: { name: "consumer_service", major: 2, version: "2.0.1" },
      problems: [],
    });
  });

  it("speaks the highest major with a service serving both, asking Describe once", async () => {
    const { address, answered } = await consumerServing([1, 2]);
    expect((await negotiated(address)).contract).toEqual({
      name: "consumer_service",
      major: 2,
      version: "2.0.1",
    });
    expect(answered).toEqual([2]);
  });

  it("speaks the pinned major only: v1 with a service serving both, none with one that lacks it", async () => {
    const both = await consumerServing([1, 2]);
    expect((await negotiated(both.address, { pin: 1 })).contract?.major).toBe(1);
    expect(both.answered).toEqual([1]);

    const v1 = await consumerServing([1], [version(1, 3)]);
    expect(await negotiated(v1.address, { pin: 2 })).toEqual({
      contract: undefined,
      problems: [
        `the service (address ${v1.address} at ${v1.address}) serves consumer_service v1 (1.3.1); this core speaks consumer_service v2 with it (its contractMajor pins v2)`,
      ],
    });
  });

  it("names both sides when the service serves no major Core speaks", async () => {
    const { address } = await consumerServing([]);
    expect((await negotiated(address)).problems).toEqual([
      `the service (address ${address} at ${address}) answers Describe on none of consumer_service v2, v1 (UNIMPLEMENTED): it serves no consumer_service major this core speaks with it, or is not a consumer; this core speaks consumer_service v1, v2 with it`,
    ]);
  });

  it("refuses a service that answers on a major its descriptor does not list", async () => {
    const { address } = await consumerServing([2], [version(1)]);
    expect((await negotiated(address)).problems).toEqual([
      '"sink-v2" answers Describe on consumer_service v2 but lists consumer_service v1 (1.0.1); a service lists, in its descriptor\'s contracts, every major it serves',
    ]);
  });
});

describe("negotiating the contract major with a spawned service (its handshake names its choice)", () => {
  it("speaks the major the handshake names when Core offers it, even below the highest both serve", async () => {
    const { address, answered } = await consumerServing([1, 2]);
    const handshake = { name: "consumer_service", major: 1 };
    expect(await negotiated(address, { handshake })).toEqual({
      contract: { name: "consumer_service", major: 1, version: "1.0.1" },
      problems: [],
    });
    expect(answered).toEqual([1]);
  });

  it("falls back to a major Core offers when the handshake names another that the service also serves", async () => {
    // A service that ignores FLOW_CONTRACT_MAJORS names its own favourite: v2, while the stage pins v1.
    const { address } = await consumerServing([1, 2]);
    const handshake = { name: "consumer_service", major: 2 };
    expect((await negotiated(address, { pin: 1, handshake })).contract?.major).toBe(1);
  });

  it("names the handshake's major when the service serves nothing Core offers", async () => {
    const { address } = await consumerServing([]);
    const handshake = { name: "consumer_service", major: 3 };
    expect((await negotiated(address, { handshake })).problems).toEqual([
      `the service (address ${address} at ${address}) serves consumer_service v3 (its handshake); this core speaks consumer_service v1, v2 with it`,
    ]);
  });
});
