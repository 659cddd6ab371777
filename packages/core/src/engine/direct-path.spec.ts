import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import pino from "pino";
import { familyContract } from "../clients/family-contracts";
import { AckStatus } from "../gen/consumer_service/v1/consumer";
import type { WriteRequest } from "../gen/consumer_service/v2/consumer";
import { type WriteRequest as WriteRequestV2, WriteResponse } from "../gen/consumer_service/v2/consumer";
import type { ProcessRequest } from "../gen/processor_service/v2/processor";
import { type ReadRequest, type ReadResponse, SourceBatch } from "../gen/source_service/v2/source";
import { openStateStore, type StateStore } from "../state";
import { listenBare } from "../test-support/bare-grpc-server";
import { PipelineRunner } from "./pipeline-runner";
import { decodeEvents, type RawBatch } from "./raw-batch";
import { referenceBatch } from "./reference-batch";
import type { ConsumerAnswer, LinkRequest, ProcessorAnswer, SourceMessage } from "./stream-codecs";
import { checkpoint, written } from "./test-support/fake-answers";
import {
  batchOf,
  type FakeLinkStream,
  fakeStreams,
  planFrom,
  silentLogger,
  until,
} from "./test-support/fake-link-stream";
import { type FakeNegotiation, fakeServices } from "./test-support/fake-services";
import { sourceRequests } from "./test-support/fake-sources";

// A run whose edges are direct: the source and the processor are named peers in their start
// messages, and batches cross Core as references (the fakes play the services' side: the bytes
// a reference names went from stage to stage, where no test sees them).

type ProcessorStream = FakeLinkStream<LinkRequest<ProcessRequest>, ProcessorAnswer | undefined>;
type ConsumerStream = FakeLinkStream<LinkRequest<WriteRequest>, ConsumerAnswer>;

/** What a link stream carried after its start message: a reference's handle, or the event ids. */
function sent(stream: ProcessorStream | ConsumerStream): (string | string[])[] {
  return stream.written.flatMap((message) => ("sequence" in message ? [shown(message.batch)] : []));
}

function shown(batch: RawBatch): string | string[] {
  return batch.ref
    ? `ref ${batch.ref.stream}/${batch.ref.handle}`
    : decodeEvents(batch).map((event) => event.id);
}

const ref = (stream: string, handle: number) => ({ stream, handle: BigInt(handle) });

/** A source's batch `sequence` of `count` events sent by reference, with checkpoint `at` (100 bytes an event). */
const sourceRef = (
  sequence: number,
  reference: ReturnType<typeof ref>,
  count: number,
  at: number,
): SourceMessage => ({
  kind: "batch",
  sequence: BigInt(sequence),
  batch: referenceBatch(reference, count, count * 100),
  checkpoint: checkpoint(at),
});

// Every run keeps its state in a SQLite file of its own, removed after.
let dir: string;
let store: StateStore;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "flow-direct-"));
  store = await openStateStore(`sqlite:${join(dir, "state.db")}`, { baseDir: dir });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("a run on the direct data path (fake services and streams, a real SQLite store)", () => {
  /** src -> proc -> sink, every stage at v2 and saying features.direct_path unless `negotiation` says otherwise. */
  function start(
    negotiation: FakeNegotiation = { major: 2, directPath: ["src", "proc", "sink"] },
    fileSettings = "",
  ) {
    const plan = planFrom(`
metadata: { name: direct-spec }
${fileSettings}
deadLetters: { path: ${JSON.stringify(join(dir, "dead.jsonl"))} }
sources: [{ id: src, address: "127.0.0.1:1" }]
processors: [{ id: proc, address: "127.0.0.1:2", inputs: [src], batch: { maxSize: 50 } }]
consumers:
  - id: sink
    address: "127.0.0.1:3"
    inputs: [proc]
    batch: { maxSize: 50 }
    retry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 1 }
`);
    const logged: { msg: string; edges?: string[] }[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => logged.push(JSON.parse(line)) });
    const sources = fakeStreams<ReadRequest, SourceMessage>();
    const processors = fakeStreams<LinkRequest<ProcessRequest>, ProcessorAnswer | undefined>();
    const consumers = fakeStreams<LinkRequest<WriteRequest>, ConsumerAnswer>();
    const runner = new PipelineRunner({
      plan,
      store,
      logger,
      services: fakeServices(["src", "proc", "sink"], negotiation),
      streams: { source: sources, processor: processors, consumer: consumers },
      commitIntervalMs: 0,
      statsIntervalMs: 60_000,
      drainTimeoutMs: 100,
    });
    const running = runner.run();
    return { runner, running, sources, processors, consumers, logged };
  }

  it("names each upstream's peers, moves references from source to processor to consumer, and commits on the write", async () => {
    const { sources, processors, consumers, running, logged } = start();
    await until(() => sources.streams.length === 1);
    const source = sources.last();
    const [readStart] = sourceRequests(source, "start");
    expect(readStart?.peers).toEqual([
      expect.objectContaining({
        stageId: "proc",
        address: "fake:proc",
        maxBatchSize: 50,
        ingestMethod: "/flow.microservices.processor_service.v2.ProcessorService/Ingest",
      }),
    ]);
    const proc = processors.last();
    const processStart = proc.written[0];
    expect(processStart && "start" in processStart && processStart.start.request).toMatchObject({
      $case: "start",
      value: {
        stageId: "proc",
        peers: [
          expect.objectContaining({
            stageId: "sink",
            address: "fake:sink",
            maxBatchSize: 50,
            ingestMethod: "/flow.microservices.consumer_service.v2.ConsumerService/Ingest",
          }),
        ],
      },
    });
    expect(logged.find((line) => line.msg === "direct data path")?.edges).toEqual([
      "src -> proc",
      "proc -> sink",
    ]);

    source.reply(sourceRef(1, ref("src-stream", 1), 3, 1));
    expect(sent(proc)).toEqual(["ref src-stream/1"]);
    proc.reply({ inputSequence: 1n, batch: referenceBatch(ref("proc-stream", 1), 2, 200), deadLetters: [] });
    const sink = consumers.last();
    expect(sent(sink)).toEqual(["ref proc-stream/1"]);
    sink.reply(written(1n));
    await until(() => sourceRequests(source, "commit").length === 1);
    expect((await store.getCheckpoint("direct-spec", "src"))?.description).toBe("after 1");

    source.reply({ kind: "exhausted", lastSequence: 1n });
    await until(() => proc.ended && sink.ended);
    proc.finish();
    sink.finish();
    source.finish();
    const result = await running;
    expect(result.status).toBe("succeeded");
    expect(result.dataPlaneRestarts).toBe(0);
    const counters = Object.fromEntries(result.stages.map((stage) => [stage.stageId, stage]));
    expect([counters.src?.eventsOut, counters.proc?.eventsIn, counters.proc?.eventsOut]).toEqual([3, 3, 2]);
    expect([counters.sink?.eventsIn, counters.sink?.eventsOut]).toEqual([2, 2]);
  });

  it("retries through Core, with its events, a batch the consumer failed and returned", async () => {
    const { sources, processors, consumers, runner, running } = start();
    await until(() => sources.streams.length === 1);
    const source = sources.last();
    source.reply(sourceRef(1, ref("src-stream", 1), 2, 1));
    processors.last().reply({
      inputSequence: 1n,
      batch: referenceBatch(ref("proc-stream", 1), 2, 200),
      deadLetters: [],
    });
    const sink = consumers.last();
    sink.reply({
      response: {
        $case: "ack",
        value: {
          sequence: 1n,
          status: AckStatus.ACK_STATUS_RETRYABLE_FAILURE,
          reason: "table locked",
          returned: batchOf(2, "back", 1, 2),
        },
      },
    });
    await until(() => sent(sink).length === 2);
    expect(sent(sink)).toEqual(["ref proc-stream/1", ["back-1", "back-2"]]);
    sink.reply(written(2n));
    await until(() => sourceRequests(source, "commit").length === 1);
    runner.stop();
    await until(() => sink.ended);
    sink.finish();
    expect((await running).status).toBe("stopped");
  });

  it("restarts the data plane when a stage says the events of a reference never came: the source re-reads from its committed checkpoint", async () => {
    const { sources, processors, consumers, runner, running, logged } = start();
    await until(() => sources.streams.length === 1);
    const first = sources.last();
    first.reply(sourceRef(1, ref("src-a", 1), 2, 1));
    processors
      .last()
      .reply({ inputSequence: 1n, batch: referenceBatch(ref("proc-a", 1), 2, 200), deadLetters: [] });
    consumers.last().reply(written(1n));
    await until(() => sourceRequests(first, "commit").length === 1);
    first.reply(sourceRef(2, ref("src-a", 2), 2, 2));
    const oldProc = processors.last();
    oldProc.reply({ inputSequence: 2n, batch: batchOf(0, "x", 1, 2), deadLetters: [], refMissing: true });

    // Every stream starts afresh; the source from the checkpoint batch 1 committed.
    await until(() => sources.streams.length === 2);
    expect(first.cancelled).toBe(true);
    expect(oldProc.cancelled).toBe(true);
    expect(processors.streams).toHaveLength(2);
    expect(consumers.streams).toHaveLength(2);
    expect(sourceRequests(sources.last(), "start")[0]?.checkpoint).toEqual(checkpoint(1));
    expect(
      logged.some((line) => line.msg.startsWith("direct data path: batches Core does not hold were lost")),
    ).toBe(true);

    // Batch 2 is read again, on the new streams, and commits.
    const second = sources.last();
    second.reply(sourceRef(1, ref("src-b", 1), 2, 2));
    expect(sent(processors.last())).toEqual(["ref src-b/1"]);
    processors
      .last()
      .reply({ inputSequence: 3n, batch: referenceBatch(ref("proc-b", 1), 2, 200), deadLetters: [] });
    consumers.last().reply(written(2n));
    await until(() => sourceRequests(second, "commit").length === 1);
    expect((await store.getCheckpoint("direct-spec", "src"))?.description).toBe("after 2");
    runner.stop();
    await until(() => processors.last().ended && consumers.last().ended);
    processors.last().finish();
    consumers.last().finish();
    expect((await running).status).toBe("stopped");
  });

  it("restarts the data plane when a consumer's stream breaks while it holds references", async () => {
    const { sources, consumers, processors, runner, running } = start();
    await until(() => sources.streams.length === 1);
    sources.last().reply(sourceRef(1, ref("src-a", 1), 2, 1));
    processors
      .last()
      .reply({ inputSequence: 1n, batch: referenceBatch(ref("proc-a", 1), 2, 200), deadLetters: [] });
    consumers.last().fail("connection reset");
    await until(() => sources.streams.length === 2);
    // Nothing was committed: the source starts again from the beginning.
    expect(sourceRequests(sources.last(), "start")[0]?.checkpoint).toBeUndefined();
    await until(() => consumers.streams.length === 2);
    // The recovered consumer's stream replays nothing: its references named bytes that are gone.
    expect(sent(consumers.last())).toEqual([]);
    runner.stop();
    await until(() => processors.last().ended);
    processors.last().finish();
    const result = await running;
    expect(result.status).toBe("stopped");
    // The run says it restarted its data plane, once: a sink may have got what was in flight twice.
    expect(result.dataPlaneRestarts).toBe(1);
  });

  it("restarts the data plane when a consumer its upstream pushes to breaks holding no reference", async () => {
    // What the processor pushed to the dying service, Core had no reference to yet; and the
    // processor's stream names an address that is gone. Both need the restart.
    const { sources, consumers, processors, runner, running } = start();
    await until(() => sources.streams.length === 1 && processors.streams.length === 1);
    consumers.last().fail("connection reset");
    await until(() => sources.streams.length === 2);
    await until(() => processors.streams.length === 2 && consumers.streams.length === 2);
    const processStart = processors.last().written[0];
    expect(processStart && "start" in processStart && processStart.start.request?.$case).toBe("start");
    runner.stop();
    await until(() => processors.last().ended);
    processors.last().finish();
    expect((await running).status).toBe("stopped");
  });

  it("names no peers when the switch is off, when a stage cannot take references, or at major 1", async () => {
    const cases: { negotiation?: FakeNegotiation; file?: string; source: number; processor: number }[] = [
      { file: "directPath: false", source: 0, processor: 0 },
      // The consumer speaks v2 but cannot take references: only the source's edge is direct.
      { negotiation: { major: 2, directPath: ["src", "proc"] }, source: 1, processor: 0 },
      { negotiation: { major: 1, directPath: ["src", "proc", "sink"] }, source: 0, processor: 0 },
    ];
    for (const { negotiation, file, source, processor } of cases) {
      const run = start(negotiation ?? { major: 2, directPath: ["src", "proc", "sink"] }, file);
      await until(() => run.sources.streams.length === 1);
      expect(sourceRequests(run.sources.last(), "start")[0]?.peers).toHaveLength(source);
      const processStart = run.processors.last().written[0];
      const peers =
        processStart && "start" in processStart && processStart.start.request?.$case === "start"
          ? (processStart.start.request.value.peers ?? [])
          : [];
      expect(peers).toHaveLength(processor);
      run.runner.stop();
      await run.running;
    }
  });
});

describe("a run on the direct data path over real gRPC streams (services played by bare servers)", () => {
  const servers: grpc.Server[] = [];
  afterEach(() => {
    for (const server of servers.splice(0)) server.forceShutdown();
  });

  it("sends the peers in ReadStart and the reference in WriteBatch, as the generated v2 decoders read them", async () => {
    const pushed = { stream: "src-stream", handle: 1n };
    const readStarts: unknown[] = [];
    const source = new grpc.Server();
    source.addService(familyContract("source", 2).service, {
      describe: () => undefined,
      configure: () => undefined,
      read: (call: grpc.ServerDuplexStream<ReadRequest, ReadResponse>) => {
        call.once("data", (request: ReadRequest) => {
          readStarts.push(request.request?.value);
          for (const response of [
            {
              $case: "batch" as const,
              value: SourceBatch.fromPartial({
                sequence: 1n,
                ref: pushed,
                eventCount: 2,
                batchBytes: 321n,
                checkpoint: { position: Buffer.from("1"), description: "one" },
              }),
            },
            { $case: "exhausted" as const, value: { lastSequence: 1n } },
          ])
            call.write({ response });
        });
        call.on("end", () => call.end());
      },
    });
    servers.push(source);
    const written: unknown[] = [];
    const consumer = new grpc.Server();
    consumer.addService(familyContract("consumer", 2).service, {
      describe: () => undefined,
      configure: () => undefined,
      write: (call: grpc.ServerDuplexStream<WriteRequestV2, WriteResponse>) => {
        call.on("data", (request: WriteRequestV2) => {
          if (request.request?.$case !== "batch") return;
          written.push(request.request.value);
          const ack = { sequence: request.request.value.sequence, status: AckStatus.ACK_STATUS_WRITTEN };
          call.write(WriteResponse.fromPartial({ response: { $case: "ack", value: ack } }));
        });
        call.on("end", () => call.end());
      },
    });
    servers.push(consumer);
    const plan = planFrom(`
metadata: { name: direct-grpc }
deadLetters: { path: ${JSON.stringify(join(dir, "dead.jsonl"))} }
sources: [{ id: src, address: "127.0.0.1:1" }]
consumers: [{ id: sink, address: "127.0.0.1:2", inputs: [src], batch: { maxSize: 10 } }]
`);
    const services = fakeServices(["src", "sink"], { major: 2, directPath: ["src", "sink"] });
    const sinkAddress = await listenBare(consumer);
    Object.assign(services.endpoints.get("src") as object, { target: await listenBare(source) });
    Object.assign(services.endpoints.get("sink") as object, { target: sinkAddress });
    const result = await new PipelineRunner({
      plan,
      store,
      logger: silentLogger,
      services,
      commitIntervalMs: 0,
      statsIntervalMs: 60_000,
    }).run();
    expect(result.status).toBe("succeeded");
    expect(readStarts).toEqual([
      expect.objectContaining({
        stageId: "src",
        peers: [
          {
            stageId: "sink",
            address: sinkAddress,
            maxBatchSize: 10,
            maxBatchBytes: expect.any(BigInt),
            ingestMethod: "/flow.microservices.consumer_service.v2.ConsumerService/Ingest",
            // The bare sink says no features.bundles: one IngestRequest per message.
            bundles: false,
            _unknownFields: {},
          },
        ],
      }),
    ]);
    expect(written).toEqual([
      { sequence: 1n, batch: undefined, ref: { ...pushed, _unknownFields: {} }, _unknownFields: {} },
    ]);
    expect(result.stages.find((stage) => stage.stageId === "sink")?.eventsOut).toBe(2);
  });
});
