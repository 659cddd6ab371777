import * as grpc from "@grpc/grpc-js";
import type { ComponentDescriptor } from "../../gen/component/v1/component";
import type {
  IngestRequest,
  IngestResponse,
  ProcessRequest,
  ProcessResponse,
} from "../../gen/processor_service/v2/processor";
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

type Ingesting = grpc.handleClientStreamingCall<IngestRequest, IngestResponse>;

/** A processor on the direct data path: what its Ingest took, by "stream/handle". */
function directProcessor(readsIngestBundles: boolean): { process: Answering; ingest: Ingesting } {
  const taken = new Set<string>();
  const key = (ref: { stream: string; handle: bigint } | undefined) => `${ref?.stream}/${ref?.handle}`;
  return {
    ingest: (call, done) => {
      let batches = 0n;
      call.on("data", (request: IngestRequest) => {
        const requests = readsIngestBundles && request.bundle ? request.bundle.requests : [request];
        for (const one of requests)
          if (one.ref) {
            taken.add(key(one.ref));
            batches += 1n;
          }
      });
      call.on("end", () => done(null, { batches }));
    },
    // Reads bundles on its Process stream either way: only Ingest tells the two apart.
    process: (call) =>
      call
        .on("end", () => call.end())
        .on("data", (request: ProcessRequest) => {
          const requests = request.request?.$case === "bundle" ? request.request.value.requests : [request];
          for (const one of requests) {
            if (one.request?.$case !== "batch") continue;
            const { sequence, ref } = one.request.value;
            const refMissing = !!ref && !taken.has(key(ref));
            call.write({
              response: {
                $case: "batch",
                value: { inputSequence: sequence, deadLetters: [], refMissing } as never,
              },
            });
          }
        }),
  };
}

async function contextFor(
  process: Answering,
  bundles = true,
  direct?: { ingest: Ingesting; version: string },
): Promise<ConformContext> {
  const server = new grpc.Server();
  servers.push(server);
  server.addService(
    kitContract("processor", 2).definition,
    direct ? { process, ingest: direct.ingest } : { process },
  );
  const [major, minor, patch] = (direct?.version ?? "2.2.0").split(".").map(Number);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return {
    family: "processor",
    major: 2,
    events: eventMajor(2),
    component: {
      features: { bundles, directPath: direct !== undefined },
      contracts: [{ name: "processor_service", major, minor, patch }],
    } as ComponentDescriptor,
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
        "bundles.ingest skip",
      ]);
    },
  );

  it("fail a processor that says features.bundles but drops a bundle unread", async () => {
    const results = await bundleChecks(await contextFor(ignoring));
    expect(statuses(results)).toEqual(["bundles.read fail", "bundles.unasked pass", "bundles.ingest skip"]);
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
    expect(statuses(results)).toEqual(["bundles.read pass", "bundles.unasked fail", "bundles.ingest skip"]);
    expect(results[1]?.why).toMatch(/did not say accepts_bundles/);
  });

  it("pass a 2.3 processor that reads an Ingest bundle as its batches, and fail one that takes it as one", async () => {
    const reads = directProcessor(true);
    const passing = await bundleChecks(await contextFor(reads.process, true, { ...reads, version: "2.3.0" }));
    expect(statuses(passing)).toEqual(["bundles.read pass", "bundles.unasked pass", "bundles.ingest pass"]);
    const misreads = directProcessor(false);
    const failing = await bundleChecks(
      await contextFor(misreads.process, true, { ...misreads, version: "2.3.0" }),
    );
    expect(statuses(failing)).toEqual(["bundles.read pass", "bundles.unasked pass", "bundles.ingest fail"]);
    expect(failing[2]?.why).toMatch(/answered IngestResponse.batches 0/);
  });

  it("do not check Ingest bundles on a processor that reports 2.2", async () => {
    const older = directProcessor(false);
    const results = await bundleChecks(await contextFor(older.process, true, { ...older, version: "2.2.0" }));
    expect(results[2]).toMatchObject({ id: "bundles.ingest", status: "skip" });
    expect(results[2]?.why).toMatch(/reports processor_service 2\.2\.0, and bundles reach Ingest from 2\.3/);
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
