import { unary } from "@flow/testing";
import * as grpc from "@grpc/grpc-js";
import type { ConsumerDefinition } from "./consumer";
import { fromCloudEvent, toCloudEvent } from "./event-conversion";
import type { FlowEvent } from "./flow-event";
import { ConsumerServiceClient as ConsumerV1 } from "./gen/consumer_service/v1/consumer";
import {
  AckStatus,
  type BatchAck,
  ConsumerServiceClient as ConsumerV2,
  type WriteRequest,
  type WriteResponse,
} from "./gen/consumer_service/v2/consumer";
import { type CloudEvent, CloudEventBatch } from "./gen/event/v2/event";
import type { PeerRef } from "./gen/peer/v1/peer";
import { ProcessorServiceClient as ProcessorV1 } from "./gen/processor_service/v1/processor";
import {
  type IngestRequest,
  type IngestResponse,
  type ProcessedBatch,
  ProcessorServiceClient as ProcessorV2,
  type ProcessRequest,
  type ProcessResponse,
} from "./gen/processor_service/v2/processor";
import { SourceServiceClient as SourceV1 } from "./gen/source_service/v1/source";
import { SourceServiceClient as SourceV2 } from "./gen/source_service/v2/source";
import { PEER_STREAM_METADATA } from "./ingest-handler";
import type { ProcessorDefinition } from "./processor";
import { type RunningService, type ServeOptions, serveConsumer, serveProcessor, serveSource } from "./serve";
import { PermanentError, RetryableError } from "./service-errors";
import type { ServiceServer } from "./service-server";
import { coreStream } from "./test-support/core-streams";
import { forwardingProcessor } from "./test-support/forwarding-processor";
import { servedPerTest } from "./test-support/served-per-test";
import { payloadNumbers, testEvents } from "./test-support/test-events";

// A processor and a consumer served by the SDK on the direct data path, driven over real gRPC by a
// test "Core" (Process / Write streams naming batches by reference) and a test "upstream" (an
// Ingest stream pushing the batches).

const QUIET: ServeOptions = { handshake: false, handleSignals: false };

const served = servedPerTest();
const client = served.client.bind(served);

/** Resolves the next time `method` of the server's inbox is called (after it ran): how a test knows the server got that far. */
function inboxCalled(server: ServiceServer, method: "put" | "take"): Promise<void> {
  const inbox = server.peerInbox;
  const original = inbox[method] as (...args: unknown[]) => unknown;
  return new Promise((resolve) => {
    (inbox as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      const result = original.apply(inbox, args);
      (inbox as unknown as Record<string, unknown>)[method] = original;
      resolve();
      return result;
    };
  });
}

/**
 * A test upstream: one Ingest stream pushing batches under one stream id, which it names in the
 * call's metadata as the SDK's upstreams do (`named: false`: only its batches name it).
 */
function upstream(target: { ingest: ProcessorV2["ingest"] }, stream = "upstream-1", named = true) {
  let call: grpc.ClientWritableStream<IngestRequest> | undefined;
  const metadata = new grpc.Metadata();
  if (named) metadata.set(PEER_STREAM_METADATA, stream);
  const summary = new Promise<IngestResponse>((resolve, reject) => {
    call = target.ingest(metadata, (error, answer) => (error ? reject(error) : resolve(answer)));
  });
  summary.catch(() => undefined);
  const ingest = served.opened(call as grpc.ClientWritableStream<IngestRequest>);
  return {
    ref: (handle: bigint): PeerRef => ({ stream, handle }),
    push(handle: bigint, events: CloudEvent[]): void {
      ingest.write({ ref: { stream, handle }, batch: { events } });
    },
    /** Pushes several batches as one IngestRequest bundle (v2.3). */
    pushBundle(batches: [bigint, CloudEvent[]][]): void {
      ingest.write({
        bundle: {
          requests: batches.map(([handle, events]) => ({ ref: { stream, handle }, batch: { events } })),
        },
      });
    },
    /** Ends the stream; resolves with the summary, once the server has seen the end. */
    end(): Promise<IngestResponse> {
      ingest.end();
      return summary;
    },
    cancel: () => ingest.cancel(),
  };
}

/** A test Core's Process stream. */
const coreProcess = (processor: ProcessorV2) =>
  coreStream<ProcessRequest, ProcessResponse, ProcessedBatch>(
    served.opened(processor.process()),
    {
      request: {
        $case: "start",
        value: { configJson: "{}", stageId: "p", peers: [], acceptsBundles: false },
      },
    },
    "batch",
  );

/** A test Core's Write stream. */
const coreWrite = (consumer: ConsumerV2) =>
  coreStream<WriteRequest, WriteResponse, BatchAck>(
    served.opened(consumer.write()),
    { request: { $case: "start", value: { configJson: "{}", stageId: "c", acceptsBundles: false } } },
    "ack",
  );

const cloudEvents = (from: number, count: number): CloudEvent[] => testEvents(from, count).map(toCloudEvent);
const batchBytes = (events: CloudEvent[]): Buffer => Buffer.from(CloudEventBatch.encode({ events }).finish());
/** A CloudEventBatch an answer carries, as the generated code writes it (to compare bytes). */
const encoded = (batch: { events: CloudEvent[] } | undefined): Buffer | undefined =>
  batch && Buffer.from(CloudEventBatch.encode(batch).finish());

/** Stamps every event: what the answers show of the events the processor read. */
const stamp: ProcessorDefinition<object> = {
  name: "test-stamp",
  version: "1.0.0",
  configSchema: { type: "object" },
  process(event) {
    event.extensions.stamped = { value: { $case: "booleanValue", value: true } };
    return event;
  },
};

describe("Describe on the direct data path", () => {
  const describeOf = (made: { describe: ProcessorV2["describe"] }) =>
    unary<{ component?: { features?: { directPath: boolean; bundles: boolean } } }>((done) =>
      made.describe({}, done),
    ).then((answer) => [answer.component?.features?.directPath, answer.component?.features?.bundles]);
  type Describing = new (
    address: string,
    credentials: grpc.ChannelCredentials,
  ) => grpc.Client & {
    describe: ProcessorV2["describe"];
  };
  const families: [string, () => Promise<RunningService>, Describing, Describing][] = [
    ["processor", () => serveProcessor(stamp, QUIET), ProcessorV1, ProcessorV2],
    ["consumer", () => serveConsumer({ ...stamp, write: () => undefined }, QUIET), ConsumerV1, ConsumerV2],
    ["source", () => serveSource({ ...stamp, async *read() {} }, QUIET), SourceV1, SourceV2],
  ] as unknown as [string, () => Promise<RunningService>, Describing, Describing][];

  it.each(families)(
    "a %s says direct_path and bundles (v2.2) on v2, neither on v1",
    async (_family, serve, V1, V2) => {
      served.service = await serve();
      expect([await describeOf(client(V1)), await describeOf(client(V2))]).toEqual([
        [false, false],
        [true, true],
      ]);
    },
  );

  it("says no on v2 either with ServeOptions.directPath false, and serves no Ingest then", async () => {
    served.service = await serveProcessor(stamp, { ...QUIET, directPath: false });
    const processor = client(ProcessorV2);
    // Bundles do not depend on the direct data path: its stream to Core still has them.
    expect(await describeOf(processor)).toEqual([false, true]);
    const pushing = upstream(processor);
    pushing.push(1n, cloudEvents(1, 1));
    await expect(pushing.end()).rejects.toMatchObject({ code: grpc.status.UNIMPLEMENTED });
  });
});

describe("a processor receiving batches by reference", () => {
  it("handles a batch by reference like the same batch by bytes, whether the bytes or the reference came first", async () => {
    served.service = await serveProcessor(stamp, QUIET);
    const server = served.service.server;
    const processor = client(ProcessorV2);
    const core = coreProcess(processor);
    const pushing = upstream(processor);
    const events = cloudEvents(1, 4);

    core.events(1n, events);
    const byBytes = await core.answer();

    const stored = inboxCalled(server, "put");
    pushing.push(1n, events);
    await stored;
    core.ref(2n, pushing.ref(1n));
    const bytesFirst = await core.answer();

    const asked = inboxCalled(server, "take");
    core.ref(3n, pushing.ref(2n));
    await asked;
    pushing.push(2n, events);
    const refFirst = await core.answer();

    expect([bytesFirst.inputSequence, refFirst.inputSequence]).toEqual([2n, 3n]);
    for (const answer of [bytesFirst, refFirst]) {
      expect(encoded(answer.batch)?.equals(encoded(byBytes.batch) as Buffer)).toBe(true);
      expect(answer).toMatchObject({
        deadLetters: [],
        failure: undefined,
        refMissing: false,
        returned: undefined,
      });
    }
    expect(byBytes.batch?.events.map((event) => event.attributes.stamped?.attr)).toEqual(
      events.map(() => ({ $case: "ceBoolean", value: true })),
    );
    expect(await pushing.end()).toMatchObject({ batches: 2n });
    expect(server.peerInbox.heldBatches).toBe(0);
  });

  it("reads an Ingest bundle (v2.3) as the batches it carries, each as if it had come alone", async () => {
    served.service = await serveProcessor(stamp, QUIET);
    const processor = client(ProcessorV2);
    const core = coreProcess(processor);
    const pushing = upstream(processor);
    pushing.pushBundle([
      [1n, cloudEvents(1, 2)],
      [2n, cloudEvents(3, 1)],
      [3n, cloudEvents(4, 3)],
    ]);
    const answers = [];
    for (const handle of [1n, 2n, 3n]) {
      core.ref(handle, pushing.ref(handle));
      answers.push(await core.answer());
    }
    expect(answers.map((answer) => payloadNumbers((answer.batch?.events ?? []).map(fromCloudEvent)))).toEqual(
      [[1, 2], [3], [4, 5, 6]],
    );
    expect(answers.map((answer) => answer.refMissing)).toEqual([false, false, false]);
    expect(await pushing.end()).toMatchObject({ batches: 3n });
  });

  it("answers ref_missing for a reference its Ingest stream ended without, normally or broken", async () => {
    served.service = await serveProcessor(stamp, QUIET);
    const server = served.service.server;
    const processor = client(ProcessorV2);
    const core = coreProcess(processor);

    // An upstream that does not name its stream in the metadata is known by its first batch.
    const ended = upstream(processor, "ended-stream", false);
    ended.push(1n, cloudEvents(1, 2));
    expect(await ended.end()).toMatchObject({ batches: 1n });
    core.ref(1n, ended.ref(2n));
    expect(await core.answer()).toMatchObject({ inputSequence: 1n, refMissing: true, batch: undefined });
    // What it did carry is there still: a Process stream is open.
    core.ref(2n, ended.ref(1n));
    expect(payloadNumbers((await core.answer()).batch?.events.map(fromCloudEvent) ?? [])).toEqual([1, 2]);

    const broken = upstream(processor, "broken-stream");
    broken.push(1n, cloudEvents(3, 1));
    const asked = inboxCalled(server, "take");
    core.ref(3n, broken.ref(2n));
    await asked;
    broken.cancel();
    expect(await core.answer()).toMatchObject({ inputSequence: 3n, refMissing: true });
  });

  it("returns the input's bytes with a failure, so Core can retry or dead-letter it itself", async () => {
    served.service = await serveProcessor(
      {
        ...stamp,
        processBatch: () => {
          throw new RetryableError("the lookup table is reloading");
        },
      },
      QUIET,
    );
    const processor = client(ProcessorV2);
    const core = coreProcess(processor);
    const pushing = upstream(processor);
    const events = cloudEvents(1, 3);
    pushing.push(1n, events);
    core.ref(1n, pushing.ref(1n));
    const byRef = await core.answer();
    expect(byRef.failure).toMatchObject({ reason: "the lookup table is reloading", retryable: true });
    expect(encoded(byRef.returned)?.equals(batchBytes(events))).toBe(true);
    // A batch Core sent with its events is Core's already: nothing is returned.
    core.events(2n, events);
    expect(await core.answer()).toMatchObject({ inputSequence: 2n, returned: undefined });
  });

  it("gives processEncoded the exact bytes pushed, and returns them when it throws", async () => {
    const { definition, seen } = forwardingProcessor(2);
    served.service = await serveProcessor(definition, QUIET);
    const processor = client(ProcessorV2);
    const core = coreProcess(processor);
    const pushing = upstream(processor);
    const events = cloudEvents(1, 3);
    pushing.push(1n, events);
    pushing.push(2n, events);
    core.ref(1n, pushing.ref(1n));
    core.ref(2n, pushing.ref(2n));
    const [forwarded, refused] = [await core.answer(), await core.answer()];
    expect(seen.map((bytes) => bytes.equals(batchBytes(events)))).toEqual([true, true]);
    expect(encoded(forwarded.batch)?.equals(batchBytes(events))).toBe(true);
    expect(refused.failure).toMatchObject({ reason: "no route for this batch", retryable: false });
    expect(encoded(refused.returned)?.equals(batchBytes(events))).toBe(true);
  });
});

describe("a consumer receiving batches by reference", () => {
  /** Writes what it gets; the first event's payload 1 makes the write fail retryably, 2 permanently. */
  function recording() {
    const written: FlowEvent[][] = [];
    const definition: ConsumerDefinition<object> = {
      name: "test-recording",
      version: "1.0.0",
      configSchema: { type: "object" },
      write(events) {
        const [first] = payloadNumbers(events);
        if (first === 1) throw new RetryableError("the table is locked");
        if (first === 2) throw new PermanentError("row 2 violates a constraint");
        written.push(events);
      },
    };
    return { definition, written };
  }

  it("writes a batch by reference as the same batch by bytes, whether the bytes or the reference came first", async () => {
    const { definition, written } = recording();
    served.service = await serveConsumer(definition, QUIET);
    const server = served.service.server;
    const consumer = client(ConsumerV2);
    const core = coreWrite(consumer);
    const pushing = upstream(consumer as never);
    const events = cloudEvents(10, 3);

    core.events(1n, events);
    const stored = inboxCalled(server, "put");
    pushing.push(1n, events);
    await stored;
    core.ref(2n, pushing.ref(1n));
    const asked = inboxCalled(server, "take");
    core.ref(3n, pushing.ref(2n));
    await asked;
    pushing.push(2n, events);

    const acks = [await core.answer(), await core.answer(), await core.answer()];
    expect(acks.map((ack) => [ack.sequence, ack.status, ack.refMissing])).toEqual([
      [1n, AckStatus.ACK_STATUS_WRITTEN, false],
      [2n, AckStatus.ACK_STATUS_WRITTEN, false],
      [3n, AckStatus.ACK_STATUS_WRITTEN, false],
    ]);
    expect(written).toHaveLength(3);
    for (const batch of written) expect(batch).toEqual(written[0]);
    expect(payloadNumbers(written[0] ?? [])).toEqual([10, 11, 12]);
  });

  it("answers a retryable failure with ref_missing for a reference its Ingest stream ended without, even one that carried nothing", async () => {
    const { definition, written } = recording();
    served.service = await serveConsumer(definition, QUIET);
    const consumer = client(ConsumerV2);
    const core = coreWrite(consumer);
    const pushing = upstream(consumer as never);
    await pushing.end();
    core.ref(1n, pushing.ref(1n));
    const ack = await core.answer();
    expect(ack).toMatchObject({
      sequence: 1n,
      status: AckStatus.ACK_STATUS_RETRYABLE_FAILURE,
      refMissing: true,
      returned: undefined,
    });
    expect(ack.reason).toContain("never arrived");
    expect(written).toEqual([]);
  });

  it("returns the batch's bytes with any status but WRITTEN", async () => {
    const { definition } = recording();
    served.service = await serveConsumer(definition, QUIET);
    const consumer = client(ConsumerV2);
    const core = coreWrite(consumer);
    const pushing = upstream(consumer as never);
    const retryable = cloudEvents(1, 2);
    const permanent = cloudEvents(2, 2);
    const fine = cloudEvents(3, 2);
    pushing.push(1n, retryable);
    pushing.push(2n, permanent);
    pushing.push(3n, fine);
    for (const handle of [1n, 2n, 3n]) core.ref(handle, pushing.ref(handle));
    const acks = [await core.answer(), await core.answer(), await core.answer()];
    expect(acks.map((ack) => ack.status)).toEqual([
      AckStatus.ACK_STATUS_RETRYABLE_FAILURE,
      AckStatus.ACK_STATUS_PERMANENT_FAILURE,
      AckStatus.ACK_STATUS_WRITTEN,
    ]);
    expect(encoded(acks[0]?.returned)?.equals(batchBytes(retryable))).toBe(true);
    expect(encoded(acks[1]?.returned)?.equals(batchBytes(permanent))).toBe(true);
    expect(acks[2]?.returned).toBeUndefined();
  });
});
