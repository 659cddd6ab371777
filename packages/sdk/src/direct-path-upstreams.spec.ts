import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { freePort, StreamReader } from "@flow/testing";
import * as grpc from "@grpc/grpc-js";
import { fromCloudEvent, toCloudEvent } from "./event-conversion";
import { eventJson, type FlowEvent } from "./flow-event";
import { type CloudEvent, CloudEventBatch } from "./gen/event/v2/event";
import type { Peer, PeerRef } from "./gen/peer/v1/peer";
import {
  type IngestRequest,
  type ProcessedBatch,
  ProcessorServiceService as ProcessorServiceV2,
  ProcessorServiceClient as ProcessorV2,
  type ProcessRequest,
  type ProcessResponse,
} from "./gen/processor_service/v2/processor";
import {
  type ReadRequest,
  type ReadResponse,
  type SourceBatch,
  SourceServiceService as SourceServiceV2,
  SourceServiceClient as SourceV2,
} from "./gen/source_service/v2/source";
import { PEER_STREAM_METADATA } from "./ingest-handler";
import { deadLetter, type ProcessorDefinition } from "./processor";
import { type ServeOptions, serveProcessor, serveSource } from "./serve";
import type { SourceDefinition } from "./source";
import { readStartV2 } from "./test-support/core-streams";
import { forwardingProcessor } from "./test-support/forwarding-processor";
import { IngestRecorder, type RecordedBatch } from "./test-support/ingest-recorder";
import { servedPerTest } from "./test-support/served-per-test";
import { payloadNumbers, testEvents } from "./test-support/test-events";

// A source and a processor served by the SDK with peers in their stream start (the direct data
// path): real test peers (IngestRecorder) record what is pushed to them byte for byte, and a test
// "Core" reads what the service tells it, decoded and as raw frames, to compare with what it
// would have got without peers.

const QUIET: ServeOptions = { handshake: false, handleSignals: false };

const served = servedPerTest();
const client = served.client.bind(served);
const recorders: IngestRecorder[] = [];
afterEach(() => Promise.all(recorders.splice(0).map((recorder) => recorder.stop())));

async function recorder(): Promise<IngestRecorder> {
  const started = await IngestRecorder.start();
  recorders.push(started);
  return started;
}

/** A stream of `method` whose answers come as their raw frames: what Core's own codecs read. */
function rawStream<Request>(method: grpc.MethodDefinition<Request, unknown>) {
  const raw = client(
    grpc.Client as unknown as new (
      address: string,
      credentials: grpc.ChannelCredentials,
    ) => grpc.Client,
  );
  const call = served.opened(
    raw.makeBidiStreamRequest<Request, Buffer>(method.path, method.requestSerialize, (frame) => frame),
  );
  return { call, reader: new StreamReader<Request, Buffer>(call) };
}

/** The one length-delimited field `field` of a message's bytes (the last, should there be several). */
function fieldOf(bytes: Uint8Array, field: number): Uint8Array | undefined {
  const reader = new BinaryReader(bytes);
  let found: Uint8Array | undefined;
  while (reader.pos < reader.len) {
    const [number, wireType] = reader.tag();
    if (number === field && wireType === WireType.LengthDelimited) found = reader.bytes();
    else reader.skip(wireType, number);
  }
  return found;
}

/** The CloudEventBatch bytes an answer frame carries in its member's `batch` (field 2 of field 1). */
const batchBytesOf = (frame: Buffer): Buffer | undefined => {
  const member = fieldOf(frame, 1);
  const batch = member && fieldOf(member, 2);
  return batch && Buffer.from(batch);
};

const numbersOf = (events: CloudEvent[] | undefined): number[] =>
  payloadNumbers((events ?? []).map(fromCloudEvent));

/** The ProcessedBatch a Process answer carries (no bundles: these streams' starts do not accept them). */
const processedOf = (answer: ProcessResponse): ProcessedBatch | undefined =>
  answer.response?.$case === "batch" ? answer.response.value : undefined;

/** A finite source: one batch per list of event numbers, each checkpointed at its last number. */
function listSource(batches: number[][]): SourceDefinition<object> {
  return {
    name: "test-list",
    version: "1.0.0",
    configSchema: { type: "object" },
    async *read() {
      for (const numbers of batches) {
        const [first = 0] = numbers;
        yield {
          events: testEvents(first, numbers.length),
          checkpoint: { position: Buffer.from(String(numbers.at(-1))) },
        };
      }
    },
  };
}

/** A test Core's Read stream: the SourceBatches it gets until the source is exhausted. */
async function readAll(peers: Peer[]): Promise<{ batches: SourceBatch[]; end(): void }> {
  const call = served.opened(client(SourceV2).read());
  const reader = new StreamReader<ReadRequest, ReadResponse>(call);
  call.write(readStartV2({ peers }));
  const batches: SourceBatch[] = [];
  for (;;) {
    const message = await reader.next();
    if (message.response?.$case === "exhausted") return { batches, end: () => call.end() };
    if (message.response?.$case === "batch") batches.push(message.response.value);
  }
}

/** The raw frames a Read stream without peers answers: the bytes Core gets when nothing is direct. */
async function rawReadAll(count: number): Promise<Buffer[]> {
  const { call, reader } = rawStream(SourceServiceV2.read as grpc.MethodDefinition<ReadRequest, unknown>);
  call.write(readStartV2());
  return reader.take(count);
}

const refOf = (recorded: RecordedBatch): PeerRef => ({
  stream: recorded.ref?.stream ?? "",
  handle: recorded.ref?.handle ?? 0n,
});

describe("a source with peers", () => {
  it("pushes each batch's exact bytes to every peer first, and tells Core only the reference, count and size", async () => {
    const batches = [[1, 2, 3], [4], [5, 6]];
    served.service = await serveSource(listSource(batches), QUIET);
    const [one, two] = [await recorder(), await recorder()];
    const throughCore = await rawReadAll(batches.length);

    const read = await readAll([
      one.peer({}, "a"),
      two.peer({ maxBatchSize: 10, maxBatchBytes: 1 << 20 }, "b"),
    ]);
    const pushed = await one.batches(3);
    expect((await two.batches(3)).map((batch) => batch.frame)).toEqual(pushed.map((batch) => batch.frame));

    const stream = pushed[0]?.ref?.stream ?? "";
    expect(stream).toMatch(/^[0-9a-f-]{36}$/);
    expect(pushed.map(refOf)).toEqual([1n, 2n, 3n].map((handle) => ({ stream, handle })));
    pushed.forEach((batch, index) => {
      expect(Buffer.from(batch.batch).equals(batchBytesOf(throughCore[index] as Buffer) as Buffer)).toBe(
        true,
      );
    });
    expect(
      read.batches.map(({ sequence, batch, ref, eventCount, batchBytes, checkpoint }) => ({
        sequence,
        batch,
        ref: ref && { stream: ref.stream, handle: ref.handle },
        eventCount,
        batchBytes,
        position: checkpoint?.position.toString(),
      })),
    ).toEqual(
      pushed.map((batch, index) => ({
        sequence: BigInt(index + 1),
        batch: undefined,
        ref: refOf(batch),
        eventCount: batches[index]?.length,
        batchBytes: BigInt(batch.batch.length),
        position: String(batches[index]?.at(-1)),
      })),
    );
    // Core ends the Read stream: every Ingest call of it ends.
    read.end();
    await Promise.all([one.ended(1), two.ended(1)]);
  });

  it("bundles the pushes of one turn to a peer that reads Ingest bundles, and pushes one message each to one that does not", async () => {
    const batches = [[1, 2], [3], [4, 5], [6]];
    served.service = await serveSource(listSource(batches), QUIET);
    const [bundling, single] = [await recorder(), await recorder()];
    const read = await readAll([bundling.peer({ bundles: true }, "a"), single.peer({}, "b")]);
    const [viaBundles, oneEach] = [await bundling.batches(4), await single.batches(4)];
    expect(viaBundles.map((batch) => batch.frame)).toEqual(oneEach.map((batch) => batch.frame));
    expect(viaBundles.map((batch) => numbersOf(CloudEventBatch.decode(batch.batch).events))).toEqual(batches);
    expect(read.batches.map((batch) => batch.ref?.handle)).toEqual([1n, 2n, 3n, 4n]);
    expect(single.messages).toBe(4);
    // The source yields its batches in fewer turns than it has batches: some share a message.
    expect(bundling.messages).toBeLessThan(4);
    read.end();
    await Promise.all([bundling.ended(1), single.ended(1)]);
  });

  it("sends Core, with its events, a batch over a peer's limit in events or bytes, and pushes the rest", async () => {
    const batches = [[1, 2, 3], [4], [5, 6, 7, 8, 9, 10, 11, 12, 13, 14], [15, 16]];
    served.service = await serveSource(listSource(batches), QUIET);
    const throughCore = await rawReadAll(batches.length);
    const sizes = throughCore.map((frame) => batchBytesOf(frame)?.length ?? 0);
    const peer = await recorder();
    // Three events at most, and no more bytes than two events take: the first and third batch go to Core.
    const maxBatchBytes = Math.max(sizes[1] ?? 0, sizes[3] ?? 0);
    expect(sizes[0]).toBeGreaterThan(maxBatchBytes);

    const { call, reader } = rawStream(SourceServiceV2.read as grpc.MethodDefinition<ReadRequest, unknown>);
    call.write(readStartV2({ peers: [peer.peer({ maxBatchSize: 3, maxBatchBytes })] }));
    const frames = await reader.take(batches.length);
    const pushed = await peer.batches(2);
    expect(pushed.map((batch) => batch.ref?.handle)).toEqual([1n, 2n]);
    expect(pushed.map((batch) => numbersOf(CloudEventBatch.decode(batch.batch).events))).toEqual([
      [4],
      [15, 16],
    ]);
    // To Core as it would have got them without peers, byte for byte.
    expect(batchBytesOf(frames[0] as Buffer)?.equals(batchBytesOf(throughCore[0] as Buffer) as Buffer)).toBe(
      true,
    );
    expect(batchBytesOf(frames[2] as Buffer)?.equals(batchBytesOf(throughCore[2] as Buffer) as Buffer)).toBe(
      true,
    );
    const answers = frames.map(
      (frame) => (SourceServiceV2.read.responseDeserialize(frame) as ReadResponse).response,
    );
    expect(answers.map((answer) => answer?.$case === "batch" && answer.value.ref?.handle)).toEqual([
      undefined,
      1n,
      undefined,
      2n,
    ]);
    expect(
      answers.map((answer) => (answer?.$case === "batch" ? numbersOf(answer.value.batch?.events) : [])),
    ).toEqual([[1, 2, 3], [], batches[2], []]);
  });

  it("sends everything to Core with its events when a peer cannot be reached, losing nothing", async () => {
    const batches = [[1, 2], [3], [4, 5, 6]];
    served.service = await serveSource(listSource(batches), QUIET);
    const reachable = await recorder();
    const down: Peer = { ...reachable.peer(), stageId: "down", address: `127.0.0.1:${await freePort()}` };
    const read = await readAll([reachable.peer(), down]);
    expect(read.batches.map((batch) => batch.ref)).toEqual([undefined, undefined, undefined]);
    expect(read.batches.flatMap((batch) => numbersOf(batch.batch?.events))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(reachable.received).toEqual([]);
    // The reachable peer's Ingest call ends at once: nothing will come on it.
    await reachable.ended(1);
  });

  it("ignores peers with ServeOptions.directPath false", async () => {
    served.service = await serveSource(listSource([[1, 2]]), { ...QUIET, directPath: false });
    const peer = await recorder();
    const read = await readAll([peer.peer()]);
    expect(read.batches.map((batch) => [batch.ref, numbersOf(batch.batch?.events)])).toEqual([
      [undefined, [1, 2]],
    ]);
    expect(peer.received).toEqual([]);
  });
});

describe("a processor with peers", () => {
  /** Drops event 3, dead-letters event 7, stamps the rest. */
  const filter: ProcessorDefinition<object> = {
    name: "test-filter",
    version: "1.0.0",
    configSchema: { type: "object" },
    process(event) {
      const { n } = eventJson(event) as { n: number };
      if (n === 3) return null;
      if (n === 7) return deadLetter("seven is unlucky");
      event.extensions.stamped = { value: { $case: "booleanValue", value: true } };
      return event;
    },
  };
  const processStart = (peers: Peer[]): ProcessRequest => ({
    request: { $case: "start", value: { configJson: "{}", stageId: "filter", peers, acceptsBundles: false } },
  });
  const input = (sequence: bigint, events: FlowEvent[]): ProcessRequest => ({
    request: { $case: "batch", value: { sequence, batch: { events: events.map(toCloudEvent) } } },
  });
  const inputs = [testEvents(1, 4), testEvents(3, 1), testEvents(5, 4)];

  async function processAll(peers: Peer[]): Promise<ProcessedBatch[]> {
    const call = served.opened(client(ProcessorV2).process());
    const reader = new StreamReader<ProcessRequest, ProcessResponse>(call);
    call.write(processStart(peers));
    for (const [index, events] of inputs.entries()) call.write(input(BigInt(index + 1), events));
    const answers = await reader.take(inputs.length);
    call.end();
    return answers.map((answer) => answer.response?.value as ProcessedBatch);
  }

  it("pushes each output with events to every peer first, and tells Core its reference, count and size, dead letters included", async () => {
    served.service = await serveProcessor(filter, QUIET);
    const { call, reader } = rawStream(
      ProcessorServiceV2.process as grpc.MethodDefinition<ProcessRequest, unknown>,
    );
    call.write(processStart([]));
    for (const [index, events] of inputs.entries()) call.write(input(BigInt(index + 1), events));
    const throughCore = await reader.take(inputs.length);

    const peer = await recorder();
    const answers = await processAll([peer.peer()]);
    // The second input's only event is dropped: an output with no events goes to Core as always.
    const pushed = await peer.batches(2);
    expect(pushed.map((batch) => batch.ref?.handle)).toEqual([1n, 2n]);
    expect(Buffer.from(pushed[0]?.batch ?? []).equals(batchBytesOf(throughCore[0] as Buffer) as Buffer)).toBe(
      true,
    );
    expect(Buffer.from(pushed[1]?.batch ?? []).equals(batchBytesOf(throughCore[2] as Buffer) as Buffer)).toBe(
      true,
    );
    expect(
      answers.map(({ inputSequence, batch, outputRef, outputCount, outputBytes, deadLetters }) => ({
        inputSequence,
        events: batch?.events.length,
        handle: outputRef?.handle,
        outputCount,
        outputBytes,
        deadLetters: deadLetters.map((letter) => letter.reason),
      })),
    ).toEqual([
      {
        inputSequence: 1n,
        events: undefined,
        handle: 1n,
        outputCount: 3,
        outputBytes: BigInt(pushed[0]?.batch.length ?? 0),
        deadLetters: [],
      },
      { inputSequence: 2n, events: 0, handle: undefined, outputCount: 0, outputBytes: 0n, deadLetters: [] },
      {
        inputSequence: 3n,
        events: undefined,
        handle: 2n,
        outputCount: 3,
        outputBytes: BigInt(pushed[1]?.batch.length ?? 0),
        deadLetters: ["seven is unlucky"],
      },
    ]);
    expect(answers[2]?.outputRef?.stream).toBe(pushed[0]?.ref?.stream);
    await peer.ended(1);
  });

  it("answers Core with the output's events when it is over a peer's limit", async () => {
    served.service = await serveProcessor(filter, QUIET);
    const peer = await recorder();
    const answers = await processAll([peer.peer({ maxBatchBytes: 10 })]);
    expect(answers.map((answer) => answer.outputRef)).toEqual([undefined, undefined, undefined]);
    expect(answers.map((answer) => numbersOf(answer.batch?.events))).toEqual([[1, 2, 4], [], [5, 6, 8]]);
    expect(peer.received).toEqual([]);
  });

  it("falls back to Core for the rest of the stream once a peer's Ingest call broke", async () => {
    served.service = await serveProcessor(filter, QUIET);
    const peer = await recorder();
    const call = served.opened(client(ProcessorV2).process());
    const reader = new StreamReader<ProcessRequest, ProcessResponse>(call);
    call.write(processStart([peer.peer()]));
    call.write(input(1n, testEvents(1, 2)));
    expect(processedOf(await reader.next())?.outputRef?.handle).toBe(1n);
    await peer.stop();
    await peer.ended(1);
    // The SDK learns of the break from its call; every later output goes to Core with its events.
    const later: ProcessedBatch[] = [];
    for (let sequence = 2n; later.length === 0 || later.at(-1)?.outputRef; sequence += 1n) {
      call.write(input(sequence, testEvents(10, 1)));
      later.push(processedOf(await reader.next()) as ProcessedBatch);
    }
    expect(numbersOf(later.at(-1)?.batch?.events)).toEqual([10]);
    call.write(input(100n, testEvents(20, 2)));
    const last = processedOf(await reader.next());
    expect([last?.outputRef, numbersOf(last?.batch?.events)]).toEqual([undefined, [20, 21]]);
  });

  it("takes an input by reference and pushes its output on: a processor between two direct edges", async () => {
    const { definition, seen } = forwardingProcessor();
    served.service = await serveProcessor(definition, QUIET);
    const processor = client(ProcessorV2);
    const metadata = new grpc.Metadata();
    metadata.set(PEER_STREAM_METADATA, "upstream");
    const ingest = served.opened(
      processor.ingest(metadata, () => undefined) as grpc.ClientWritableStream<IngestRequest>,
    );
    const events = testEvents(1, 5).map(toCloudEvent);
    ingest.write({ ref: { stream: "upstream", handle: 1n }, batch: { events } });

    const peer = await recorder();
    const call = served.opened(processor.process());
    const reader = new StreamReader<ProcessRequest, ProcessResponse>(call);
    call.write(processStart([peer.peer()]));
    call.write({
      request: { $case: "batch", value: { sequence: 1n, ref: { stream: "upstream", handle: 1n } } },
    });
    const answer = processedOf(await reader.next());
    const [pushed] = await peer.batches(1);
    const bytes = Buffer.from(CloudEventBatch.encode({ events }).finish());
    expect(seen[0]?.equals(bytes)).toBe(true);
    expect(Buffer.from(pushed?.batch ?? []).equals(bytes)).toBe(true);
    expect(answer).toMatchObject({
      inputSequence: 1n,
      outputCount: 5,
      outputBytes: BigInt(bytes.length),
      batch: undefined,
    });
    expect(answer?.outputRef?.handle).toBe(1n);
    expect(payloadNumbers(testEvents(1, 5))).toEqual(
      numbersOf(CloudEventBatch.decode(pushed?.batch ?? new Uint8Array()).events),
    );
  });
});
