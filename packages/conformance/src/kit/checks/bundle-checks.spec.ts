import * as grpc from "@grpc/grpc-js";
import type { ComponentDescriptor } from "../../gen/component/v1/component";
import type { ProcessRequest, ProcessResponse } from "../../gen/processor_service/v2/processor";
import { parseConformConfig } from "../conform-config";
import type { ConformContext } from "../conform-context";
import { eventMajor } from "../event-majors";
import { kitContract } from "../family-clients";
import { bundleChecks, bundlesNotChecked, contractHasBundles } from "./bundle-checks";

// The bundle checks against processors written here on grpc-js alone, each handling bundles one
// way: the kit must pass the one that reads them and fail the ones that do not.

type Answering = (call: grpc.ServerDuplexStream<ProcessRequest, ProcessResponse>) => void;

const answer = (inputSequence: bigint): ProcessResponse => ({
  response: { $case: "batch", value: { inputSequence, deadLetters: [] } as never },
});

/** Reads a bundle as its requests; answers each batch alone, or all of one message in one bundle. */
const reading =
  (bundleAnswers: "never" | "always"): Answering =>
  (call) =>
    call.on("data", (request: ProcessRequest) => {
      const requests = request.request?.$case === "bundle" ? request.request.value.requests : [request];
      const answers = requests.flatMap((one) =>
        one.request?.$case === "batch" ? [answer(one.request.value.sequence)] : [],
      );
      if (bundleAnswers === "always" && answers.length > 1)
        call.write({ response: { $case: "bundle", value: { responses: answers } } });
      else for (const one of answers) call.write(one);
    });

/** Says features.bundles but reads only a message's own batch: a bundle is dropped unread. */
const ignoring: Answering = (call) =>
  call.on("data", (request: ProcessRequest) => {
    if (request.request?.$case === "batch") call.write(answer(request.request.value.sequence));
  });

const servers: grpc.Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.forceShutdown();
});

async function contextFor(process: Answering, bundles = true): Promise<ConformContext> {
  const server = new grpc.Server();
  servers.push(server);
  server.addService(kitContract("processor", 2).definition, { process });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return {
    family: "processor",
    major: 2,
    events: eventMajor(2),
    component: { features: { bundles } } as ComponentDescriptor,
    instance: { target: `127.0.0.1:${port}` } as ConformContext["instance"],
    config: parseConformConfig({}, "spec"),
    timeoutMs: 2000,
  };
}

const statuses = (results: { id: string; status: string }[]) =>
  results.map((result) => `${result.id} ${result.status}`);

describe("the bundle checks", () => {
  it("find bundles in every family's v2 contract (2.2), never at v1", () => {
    for (const family of ["source", "processor", "consumer"] as const)
      expect([contractHasBundles(family, 1), contractHasBundles(family, 2)]).toEqual([false, true]);
  });

  it.each(["never", "always"] as const)(
    "pass a processor that reads a bundle's batches and answers each (answers bundled: %s)",
    async (bundleAnswers) => {
      expect(statuses(await bundleChecks(await contextFor(reading(bundleAnswers))))).toEqual([
        "bundles.read pass",
        "bundles.unasked pass",
      ]);
    },
  );

  it("fail a processor that says features.bundles but drops a bundle unread", async () => {
    const results = await bundleChecks(await contextFor(ignoring));
    expect(statuses(results)).toEqual(["bundles.read fail", "bundles.unasked pass"]);
    expect(results[0]?.why).toMatch(/\(501, 502, 503\) were answered with \[\]/);
  });

  it("fail a processor that bundles its answers on a stream whose start did not accept them", async () => {
    // Three batches sent one message each still come in one turn; answered as one bundle here.
    const bundlingAlways: Answering = (call) => {
      const held: ProcessResponse[] = [];
      call.on("data", (request: ProcessRequest) => {
        const requests = request.request?.$case === "bundle" ? request.request.value.requests : [request];
        for (const one of requests)
          if (one.request?.$case === "batch") held.push(answer(one.request.value.sequence));
        if (held.length >= 3)
          call.write({ response: { $case: "bundle", value: { responses: held.splice(0) } } });
      });
    };
    const results = await bundleChecks(await contextFor(bundlingAlways));
    expect(statuses(results)).toEqual(["bundles.read pass", "bundles.unasked fail"]);
    expect(results[1]?.why).toMatch(/did not say accepts_bundles/);
  });

  it("say in one line they do not apply to a service without features.bundles, and nothing at v1", async () => {
    const without = await contextFor(reading("never"), false);
    expect(bundlesNotChecked(without)).toEqual([
      expect.objectContaining({
        id: "bundles",
        status: "skip",
        why: "Describe at processor_service v2 does not say features.bundles: the bundle checks do not apply",
      }),
    ]);
    expect(bundlesNotChecked({ ...without, major: 1 })).toEqual([]);
    expect(bundlesNotChecked(await contextFor(reading("never")))).toBeUndefined();
  });
});
