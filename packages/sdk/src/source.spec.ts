import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { StreamReader } from "@flow/testing";
import * as grpc from "@grpc/grpc-js";
import { encodedEventBytes } from "./encoded-event-size";
import type { FlowEvent } from "./flow-event";
import type {
  ReadRequest,
  ReadResponse,
  SourceBatch,
  SourceServiceClient,
} from "./gen/source_service/v1/source";
import { PermanentError } from "./service-errors";
import { BatchByteLimit, type ReadContext, type SourceDefinition } from "./source";
import { type Running, runSource } from "./test-support/family-servers";
import { payloadNumbers, testEvents } from "./test-support/test-events";

interface CounterConfig {
  /** Events in all; absent means endless. */
  count?: number;
  batchSize: number;
}

/**
 * A source of numbered events whose checkpoint is the number of the next event. It records how
 * often the SDK pulled a batch and which commits arrived, so tests can see credits at work.
 */
function counterSource() {
  const observed = {
    pulls: 0,
    contexts: [] as ReadContext[],
    commits: [] as string[],
    committed: undefined as undefined | ((position: string) => void),
  };
  const definition: SourceDefinition<CounterConfig> = {
    name: "test-counter",
    version: "1.2.3",
    configSchema: {
      type: "object",
      properties: {
        count: { type: "integer", minimum: 0 },
        batchSize: { type: "integer", minimum: 1, default: 2 },
      },
      additionalProperties: false,
    },
    features: { checkpointing: true },
    async *read(config, context) {
      observed.contexts.push(context);
      let next = context.checkpoint ? Number(context.checkpoint.toString("utf8")) : 1;
      while (config.count === undefined || next <= config.count) {
        const size =
          config.count === undefined ? config.batchSize : Math.min(config.batchSize, config.count - next + 1);
        observed.pulls += 1;
        yield {
          events: testEvents(next, size),
          checkpoint: { position: Buffer.from(String(next + size)), description: `next ${next + size}` },
        };
        next += size;
      }
    },
    onCommit(position) {
      observed.commits.push(position.toString("utf8"));
      observed.committed?.(position.toString("utf8"));
    },
  };
  return { definition, observed };
}

function openRead(
  client: SourceServiceClient,
  start: { config: object; initialCredits: number; checkpoint?: string; maxBatchBytes?: bigint },
) {
  const call = client.read();
  const reader = new StreamReader<ReadRequest, ReadResponse>(call);
  call.write({
    request: {
      $case: "start",
      value: {
        configJson: JSON.stringify(start.config),
        checkpoint:
          start.checkpoint === undefined
            ? undefined
            : { position: Buffer.from(start.checkpoint), description: "" },
        initialCredits: start.initialCredits,
        maxBatchSize: 0,
        lingerMs: 0,
        stageId: "numbers",
        maxBatchBytes: start.maxBatchBytes ?? 0n,
      },
    },
  });
  return { call, reader };
}

/** A full garbage collection, with gc exposed for this moment only (jest runs without --expose-gc). */
function collectGarbage(): void {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  gc();
  gc();
}

function batchOf(response: ReadResponse): SourceBatch {
  if (response.response?.$case !== "batch")
    throw new Error(`expected a batch, got ${JSON.stringify(response.response?.$case)}`);
  return response.response.value;
}

describe("source streams (source_service v1 over a real port)", () => {
  let running: Running<SourceServiceClient> | undefined;
  afterEach(async () => {
    await running?.close();
    running = undefined;
  });

  it("never sends more batches than the credits it was granted", async () => {
    const { definition, observed } = counterSource();
    running = await runSource(definition);
    const { call, reader } = openRead(running.client, { config: { batchSize: 3 }, initialCredits: 2 });

    const first = (await reader.take(2)).map(batchOf);
    expect(first.map((batch) => batch.sequence)).toEqual([1n, 2n]);
    expect(first.map((batch) => payloadNumbers(batch.batch?.events ?? []))).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    // The server wrote batch 2 before the network carried it here: had it pulled a third batch
    // without a credit, it would have done so by now.
    expect(observed.pulls).toBe(2);
    expect(reader.pending).toBe(0);

    call.write({ request: { $case: "credit", value: { batches: 1 } } });
    const third = batchOf(await reader.next());
    expect(third.sequence).toBe(3n);
    expect(third.checkpoint?.position.toString()).toBe("10");
    expect(observed.pulls).toBe(3);
    expect(reader.pending).toBe(0);

    call.end();
    expect((await reader.status).code).toBe(grpc.status.OK);
  });

  it("lets go of every batch it has sent while the stream stays open (no batch is kept per read)", async () => {
    // Each batch's events are tracked weakly; after many more batches and a full collection,
    // the early ones must be gone. A Promise.race against a stream-long "stopped" promise once
    // kept every batch a source ever read alive until the stream ended.
    const tracked: WeakRef<object>[] = [];
    const definition: SourceDefinition<CounterConfig> = {
      ...counterSource().definition,
      async *read(_config, context) {
        for (let next = 1; !context.signal.aborted; next += 10) {
          const events = testEvents(next, 10);
          tracked.push(new WeakRef(events));
          yield { events, checkpoint: { position: Buffer.from(String(next + 10)) } };
        }
      },
    };
    running = await runSource(definition);
    const { call, reader } = openRead(running.client, { config: {}, initialCredits: 200 });
    await reader.take(200);
    await new Promise((resolve) => setImmediate(resolve));
    collectGarbage();
    const alive = tracked.slice(0, 150).filter((ref) => ref.deref() !== undefined).length;
    expect(alive).toBe(0);
    call.cancel();
  });

  it("says exhausted after the last batch and keeps the stream open until the caller ends it", async () => {
    const { definition } = counterSource();
    running = await runSource(definition);
    const { call, reader } = openRead(running.client, {
      config: { count: 5, batchSize: 2 },
      initialCredits: 10,
    });

    const batches = (await reader.take(3)).map(batchOf);
    expect(batches.map((batch) => batch.sequence)).toEqual([1n, 2n, 3n]);
    expect(batches.flatMap((batch) => payloadNumbers(batch.batch?.events ?? []))).toEqual([1, 2, 3, 4, 5]);
    expect(await reader.next()).toMatchObject({
      response: { $case: "exhausted", value: { lastSequence: 3n } },
    });

    // Exhausted does not end the call: the caller still has commits to send (next test).
    expect(reader.pending).toBe(0);
    call.end();
    expect((await reader.status).code).toBe(grpc.status.OK);
  });

  it("hands every commit notice to onCommit, also after the source is exhausted", async () => {
    const { definition, observed } = counterSource();
    running = await runSource(definition);
    const { call, reader } = openRead(running.client, {
      config: { count: 4, batchSize: 2 },
      initialCredits: 5,
    });
    const batches = (await reader.take(2)).map(batchOf);
    expect((await reader.next()).response?.$case).toBe("exhausted");

    for (const batch of batches) {
      const committed = new Promise<string>((resolve) => (observed.committed = resolve));
      call.write({
        request: { $case: "commit", value: { sequence: batch.sequence, checkpoint: batch.checkpoint } },
      });
      expect(await committed).toBe(batch.checkpoint?.position.toString());
    }
    expect(observed.commits).toEqual(["3", "5"]);
    call.end();
    expect((await reader.status).code).toBe(grpc.status.OK);
  });

  it("resumes after the checkpoint it is given, skipping exactly the events before it", async () => {
    const { definition, observed } = counterSource();
    running = await runSource(definition);
    const { call, reader } = openRead(running.client, {
      config: { count: 6, batchSize: 2 },
      initialCredits: 5,
      checkpoint: "5",
    });

    const batch = batchOf(await reader.next());
    expect(batch.sequence).toBe(1n);
    expect(payloadNumbers(batch.batch?.events ?? [])).toEqual([5, 6]);
    expect(await reader.next()).toMatchObject({
      response: { $case: "exhausted", value: { lastSequence: 1n } },
    });
    expect(observed.contexts[0]?.checkpoint?.toString()).toBe("5");
    expect(observed.contexts[0]?.stageId).toBe("numbers");
    call.end();
    await reader.status;
  });

  it("tells the source the largest batch in bytes Core wants (0 when Core does not say)", async () => {
    const { definition, observed } = counterSource();
    running = await runSource(definition);
    for (const maxBatchBytes of [1_048_576n, 0n]) {
      const { call, reader } = openRead(running.client, {
        config: { count: 1, batchSize: 1 },
        initialCredits: 1,
        maxBatchBytes,
      });
      await reader.next();
      call.end();
      await reader.status;
    }
    expect(observed.contexts.map((context) => context.maxBatchBytes)).toEqual([1_048_576, 0]);
  });

  it("starts from the beginning when the checkpoint is absent or empty", async () => {
    const { definition, observed } = counterSource();
    running = await runSource(definition);
    const { call, reader } = openRead(running.client, {
      config: { count: 2, batchSize: 2 },
      initialCredits: 1,
      checkpoint: "",
    });
    expect(payloadNumbers(batchOf(await reader.next()).batch?.events ?? [])).toEqual([1, 2]);
    expect(observed.contexts[0]?.checkpoint).toBeUndefined();
    call.end();
    await reader.status;
  });

  it("fails the stream with INVALID_ARGUMENT when the configuration on start is invalid", async () => {
    const { definition, observed } = counterSource();
    running = await runSource(definition);
    const { reader } = openRead(running.client, { config: { count: -1, colour: "red" }, initialCredits: 1 });
    const status = await reader.status;
    expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(status.details).toContain("/count");
    expect(status.details).toContain("/colour");
    expect(observed.pulls).toBe(0);
  });

  it("fails the stream (not the service) when read() throws", async () => {
    const { definition } = counterSource();
    running = await runSource({
      ...definition,
      // biome-ignore lint/correctness/useYield: the point is a source that fails before its first batch
      async *read() {
        throw new Error("disk on fire");
      },
    });
    const { reader } = openRead(running.client, { config: {}, initialCredits: 1 });
    const status = await reader.status;
    expect(status.code).toBe(grpc.status.UNAVAILABLE);
    expect(status.details).toContain("disk on fire");
  });

  it("ends the stream with FAILED_PRECONDITION and the message when read() throws a PermanentError", async () => {
    const { definition } = counterSource();
    running = await runSource({
      ...definition,
      async *read(config, context) {
        yield* definition.read({ ...config, count: 2 }, context);
        throw new PermanentError("/data/in.jsonl was replaced since it was read up to byte 200");
      },
    });
    const { reader } = openRead(running.client, { config: {}, initialCredits: 5 });
    expect(payloadNumbers(batchOf(await reader.next()).batch?.events ?? [])).toEqual([1, 2]);
    const status = await reader.status;
    expect(status.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(status.details).toBe("/data/in.jsonl was replaced since it was read up to byte 200");
    // The service lives on: another stream reads as before.
    const again = openRead(running.client, { config: {}, initialCredits: 1 });
    expect(payloadNumbers(batchOf(await again.reader.next()).batch?.events ?? [])).toEqual([1, 2]);
    again.call.end();
    await again.reader.status;
  });
});

describe("BatchByteLimit", () => {
  const events = testEvents(1, 4);
  const share = encodedEventBytes(events[0] as FlowEvent);
  /** Fills batches from `all` the way a source does; returns each batch's event numbers. */
  function batches(limit: BatchByteLimit, all: FlowEvent[]): number[][] {
    const filled: number[][] = [];
    const queue = [...all];
    while (queue.length > 0) {
      const batch = limit.startBatch();
      for (;;) {
        const event = queue.shift();
        if (event === undefined) break;
        if (!limit.admits(event)) break;
        batch.push(event);
      }
      filled.push(payloadNumbers(batch));
    }
    const last = limit.startBatch();
    if (last.length > 0) filled.push(payloadNumbers(last));
    return filled;
  }

  it("fills a batch up to the limit exactly, and begins the next with the event that did not fit", () => {
    expect(batches(new BatchByteLimit(share * 3), events)).toEqual([[1, 2, 3], [4]]);
  });

  it("cuts one byte short of the exact fit", () => {
    expect(batches(new BatchByteLimit(share * 3 - 1), events)).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  it("sends an event larger than the limit alone", () => {
    expect(batches(new BatchByteLimit(share - 1), events)).toEqual([[1], [2], [3], [4]]);
  });

  it("admits everything when no limit is stated", () => {
    const limit = new BatchByteLimit(0);
    expect(testEvents(1, 1000).every((event) => limit.admits(event))).toBe(true);
    expect(limit.startBatch()).toEqual([]);
  });
});
