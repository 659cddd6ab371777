import { AckStatus, type WriteResponse } from "../gen/consumer_service/v1/consumer";
import type { WriteRequest } from "../gen/consumer_service/v2/consumer";
import { ConsumerLink } from "./consumer-link";
import type { Delivery, Origin } from "./delivery";
import { decodeEvents, type RawBatch } from "./raw-batch";
import { referenceBatch } from "./reference-batch";
import type { ConsumerAnswer, LinkRequest } from "./stream-codecs";
import {
  batchOf,
  type FakeLinkStream,
  fakeEndpoint,
  fakeStreams,
  planFrom,
  settle,
  silentLogger,
  until,
} from "./test-support/fake-link-stream";

type Stream = FakeLinkStream<LinkRequest<WriteRequest>, WriteResponse>;

function ack(sequence: bigint, status = AckStatus.ACK_STATUS_WRITTEN, reason = ""): WriteResponse {
  return { response: { $case: "ack", value: { sequence, status, reason } } } as WriteResponse;
}

/** The batches written on a stream after its start message: [sequence, event ids]. */
function sent(stream: Stream): [bigint, string[]][] {
  return stream.written.flatMap((message) =>
    "sequence" in message ? [[message.sequence, ids(message.batch)] as [bigint, string[]]] : [],
  );
}

/** The batch's event ids; for a batch known by reference, `ref <handle>` (Core has no events to read). */
const ids = (batch: RawBatch) =>
  batch.ref ? [`ref ${batch.ref.handle}`] : decodeEvents(batch).map((event) => event.id);

function link(
  settings = "",
  limit = { maxEvents: 100, maxBytes: 1_000_000 },
  major?: number,
  bundles?: boolean,
) {
  const plan = planFrom(`
metadata: { name: t }
sources: [{ id: src, address: "127.0.0.1:1" }]
consumers:
  - id: sink
    address: "127.0.0.1:2"
    inputs: [src]
${settings}
`);
  const stage = plan.stages.find((s) => s.id === "sink") as (typeof plan.stages)[number];
  const streams = fakeStreams<LinkRequest<WriteRequest>, WriteResponse>();
  const endpoint = Object.assign(fakeEndpoint(major), { bundles });
  const written: { origins: Origin[]; ids: string[] }[] = [];
  const givenUp: { delivery: Delivery; reason: string }[] = [];
  const fatal: Error[] = [];
  const refsLost: string[] = [];
  let now = 1_000;
  const consumer = new ConsumerLink(
    { stage, endpoint, openStream: streams, logger: silentLogger, limit, now: () => now },
    {
      onWritten: (origins, batch) => written.push({ origins, ids: ids(batch) }),
      onGiveUp: (delivery, reason) => givenUp.push({ delivery, reason }),
      onFatal: (error) => fatal.push(error),
      onRefLost: (reason) => refsLost.push(reason),
    },
  );
  consumer.open();
  return {
    consumer,
    streams,
    endpoint,
    written,
    givenUp,
    fatal,
    refsLost,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const origin = (sequence: number): Origin[] => [{ source: "src", sequence: BigInt(sequence) }];

describe("ConsumerLink (a BatchLink over fake streams)", () => {
  it("opens every stream, a recovered one too, at the major negotiated with its service", async () => {
    const { consumer, streams } = link("", undefined, 2);
    expect(consumer.major).toBe(2);
    consumer.send(origin(1), batchOf(1, "a", 1, 2));
    streams.last().fail("connection reset");
    await settle();
    expect(streams.majors).toEqual([2, 2]);
    expect(sent(streams.last())).toEqual([[2n, ["a-1"]]]);
  });

  it("opens a stream that carries bundles, and says so in WriteStart, only when negotiation agreed on them", () => {
    const startOf = (bundles?: boolean) => {
      const { streams } = link("", undefined, 2, bundles);
      const start = streams.last().written[0];
      return [
        streams.bundles,
        start &&
          "start" in start &&
          start.start.request?.$case === "start" &&
          start.start.request.value.acceptsBundles,
      ];
    };
    expect(startOf(true)).toEqual([[true], true]);
    expect(startOf(false)).toEqual([[false], false]);
    expect(startOf(undefined)).toEqual([[false], false]);
  });

  it("opens with the stage's config, keeps at most inFlight batches unanswered and sends the rest as answers come", () => {
    const { consumer, streams, written } = link("    inFlight: 2\n    config: { table: t }");
    const stream = streams.last();
    expect(stream.written[0]).toEqual({
      start: {
        request: {
          $case: "start",
          value: { configJson: '{"table":"t"}', stageId: "sink", acceptsBundles: false },
        },
      },
    });
    consumer.send(origin(1), batchOf(1, "a"));
    consumer.send(origin(2), batchOf(1, "b"));
    consumer.send(origin(3), batchOf(1, "c"));
    expect(sent(stream).map(([, sentIds]) => sentIds)).toEqual([["a-1"], ["b-1"]]);
    expect(consumer.held).toBe(3);
    stream.reply(ack(1n));
    expect(written).toEqual([{ origins: origin(1), ids: ["a-1"] }]);
    expect(sent(stream).map(([sequence]) => sequence)).toEqual([1n, 2n, 3n]);
    expect(consumer.inFlight).toBe(2);
  });

  it("merges what waited behind a full stream, up to the stage's events and bytes (batching while busy)", () => {
    const small = batchOf(2, "m");
    // Room for 5 events, and for exactly two of these 2-event batches by bytes.
    const { consumer, streams, written } = link("    inFlight: 1", {
      maxEvents: 5,
      maxBytes: small.bytes.length * 2,
    });
    const stream = streams.last();
    consumer.send(origin(1), batchOf(1, "first"));
    consumer.send(origin(2), batchOf(2, "b"));
    consumer.send(origin(3), batchOf(2, "c"));
    consumer.send(origin(4), batchOf(2, "d"));
    stream.reply(ack(1n));
    // b and c fit one batch by bytes; d would not.
    expect(sent(stream)[1]).toEqual([2n, ["b-1", "b-2", "c-1", "c-2"]]);
    stream.reply(ack(2n));
    expect(written[1]).toEqual({ origins: [...origin(2), ...origin(3)], ids: ["b-1", "b-2", "c-1", "c-2"] });
    expect(sent(stream)[2]).toEqual([3n, ["d-1", "d-2"]]);
  });

  it("never merges batches of two event majors", () => {
    const { consumer, streams } = link("    inFlight: 1");
    const stream = streams.last();
    consumer.send(origin(1), batchOf(1, "first"));
    consumer.send(origin(2), batchOf(1, "v1"));
    consumer.send(origin(3), batchOf(1, "v2", 1, 2));
    stream.reply(ack(1n));
    stream.reply(ack(2n));
    expect(sent(stream).map(([, ids]) => ids)).toEqual([["first-1"], ["v1-1"], ["v2-1"]]);
  });

  it("retries a retryable failure after its backoff and gives the batch up after retry.maxAttempts", async () => {
    jest.useFakeTimers();
    try {
      const { consumer, streams, givenUp, written } = link(
        "    retry: { maxAttempts: 3, initialDelayMs: 100, maxDelayMs: 1000 }",
      );
      const stream = streams.last();
      consumer.send(origin(1), batchOf(1, "r"));
      stream.reply(ack(1n, AckStatus.ACK_STATUS_RETRYABLE_FAILURE, "busy"));
      expect(sent(stream)).toHaveLength(1);
      jest.advanceTimersByTime(99);
      expect(sent(stream)).toHaveLength(1);
      jest.advanceTimersByTime(1);
      expect(sent(stream).map(([sequence]) => sequence)).toEqual([1n, 2n]);
      stream.reply(ack(2n, AckStatus.ACK_STATUS_RETRYABLE_FAILURE, "busy"));
      jest.advanceTimersByTime(200);
      stream.reply(ack(3n, AckStatus.ACK_STATUS_RETRYABLE_FAILURE, "still busy"));
      expect(givenUp).toHaveLength(1);
      expect(givenUp[0]?.reason).toBe("still busy (gave up after 3 attempts)");
      expect(givenUp[0]?.delivery.origins).toEqual(origin(1));
      expect(written).toEqual([]);
      expect(consumer.held).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });

  it("dead-letters a permanent failure at once", () => {
    const { consumer, streams, givenUp } = link();
    consumer.send(origin(1), batchOf(1));
    streams.last().reply(ack(1n, AckStatus.ACK_STATUS_PERMANENT_FAILURE, "bad row"));
    expect(givenUp.map((letter) => letter.reason)).toEqual(["bad row"]);
  });

  it("recovers a broken stream and replays the unanswered batches in order, ahead of those waiting; old answers are ignored", async () => {
    const { consumer, streams, endpoint, written } = link("    inFlight: 2");
    const first = streams.last();
    consumer.send(origin(1), batchOf(1, "a"));
    consumer.send(origin(2), batchOf(1, "b"));
    consumer.send(origin(3), batchOf(1, "c"));
    first.reply(ack(1n));
    // b and c are unanswered on the stream; it breaks.
    first.fail("connection reset");
    consumer.send(origin(4), batchOf(1, "d"));
    await settle();
    expect(endpoint.recoveries).toEqual(["stream failed: connection reset"]);
    expect(first.cancelled).toBe(true);
    const second = streams.last();
    expect(second).not.toBe(first);
    expect(sent(second).map(([, sentIds]) => sentIds)).toEqual([["b-1"], ["c-1"]]);
    // A late answer on the old stream does nothing.
    first.reply(ack(3n));
    expect(written.map((w) => w.ids)).toEqual([["a-1"]]);
    for (const [sequence] of sent(second)) second.reply(ack(sequence));
    expect(written.map((w) => w.ids)).toEqual([["a-1"], ["b-1"], ["c-1"]]);
    expect(sent(second).at(-1)?.[1]).toEqual(["d-1"]);
  });

  it("abandons a stream whose oldest batch is unanswered past timeouts.ackMs, and replays it", async () => {
    const { consumer, streams, endpoint, advance } = link("    timeouts: { ackMs: 500 }");
    const first = streams.last();
    consumer.send(origin(1), batchOf(1, "h"));
    advance(500);
    consumer.abandonIfOverdue();
    expect(endpoint.recoveries).toEqual([]);
    advance(1);
    consumer.abandonIfOverdue();
    await settle();
    expect(endpoint.recoveries).toEqual(["no answer within 500 ms"]);
    // Sequences go on across the link's streams: the replay is batch 2 of the link.
    expect(sent(streams.last())).toEqual([[2n, ["h-1"]]]);
    expect(streams.last()).not.toBe(first);
  });

  it("fails the run when the endpoint cannot be recovered", async () => {
    const { consumer, streams, endpoint, fatal } = link();
    endpoint.refuse = new Error("restarted 3 times and failed again");
    consumer.send(origin(1), batchOf(1));
    streams.last().finish();
    await settle();
    expect(fatal.map((error) => error.message)).toEqual(["restarted 3 times and failed again"]);
  });

  it("drains on close: ends the stream once every batch is answered, resolves when the service ends it", async () => {
    const { consumer, streams } = link();
    const stream = streams.last();
    consumer.send(origin(1), batchOf(1));
    let closed = false;
    const closing = consumer.close().then(() => {
      closed = true;
    });
    await settle();
    expect(stream.ended).toBe(false);
    stream.reply(ack(1n));
    expect(stream.ended).toBe(true);
    expect(closed).toBe(false);
    stream.finish();
    await closing;
    expect(closed).toBe(true);
    // The stream's channel is let go of.
    expect(streams.closed).toBe(1);
  });

  it("on reset (a data-plane restart) forgets every delivery, opens a fresh stream, and ignores the old one's answers", async () => {
    const { consumer, streams, written } = link("    inFlight: 1");
    const old = streams.last();
    consumer.send(origin(1), batchOf(1, "a"));
    consumer.send(origin(2), batchOf(1, "b"));
    expect(consumer.held).toBe(2);
    consumer.reset();
    expect(old.cancelled).toBe(true);
    expect(consumer.held).toBe(0);
    expect(streams.streams).toHaveLength(2);
    // The fresh stream starts like any other, and carries only what comes after the reset.
    expect(streams.last().written[0]).toHaveProperty("start");
    old.reply(ack(1n));
    expect(written).toEqual([]);
    consumer.send(origin(3), batchOf(1, "c"));
    // Sequences go on from the old stream (only batch 1 had gone out on it).
    expect(sent(streams.last())).toEqual([[2n, ["c-1"]]]);
  });

  it("drops a retry that was waiting out its backoff when the link is reset", async () => {
    jest.useFakeTimers();
    try {
      const { consumer, streams } = link(
        "    retry: { maxAttempts: 3, initialDelayMs: 100, maxDelayMs: 1000 }",
      );
      consumer.send(origin(1), batchOf(1, "r"));
      streams.last().reply(ack(1n, AckStatus.ACK_STATUS_RETRYABLE_FAILURE, "busy"));
      consumer.reset();
      jest.advanceTimersByTime(1000);
      expect(sent(streams.last())).toEqual([]);
      expect(consumer.held).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });

  it("a reset while the endpoint recovers leaves nothing to replay on the recovered stream", async () => {
    const { consumer, streams } = link();
    consumer.send(origin(1), batchOf(1, "a"));
    streams.last().fail("connection reset");
    consumer.reset();
    await settle();
    expect(streams.streams).toHaveLength(2);
    expect(sent(streams.last())).toEqual([]);
  });
});

describe("ConsumerLink on the direct data path", () => {
  const ref = (handle: number) => ({ stream: "up-1", handle: BigInt(handle) });
  const byRef = (handle: number, count = 2) => referenceBatch(ref(handle), count, 100 * count);

  /** An ack of a batch sent by reference: a failure returns its events, or the events never came. */
  function refAck(
    sequence: bigint,
    status: AckStatus,
    answer: { returned?: RawBatch; refMissing?: boolean } = {},
  ): ConsumerAnswer {
    return { response: { $case: "ack", value: { sequence, status, reason: "busy", ...answer } } };
  }

  it("sends a batch known by reference as the reference alone, never merged with what waits", () => {
    const { consumer, streams, written } = link("    inFlight: 1", undefined, 2);
    const stream = streams.last();
    consumer.send(origin(1), batchOf(1, "first", 1, 2));
    consumer.send(origin(2), byRef(1));
    consumer.send(origin(3), byRef(2));
    consumer.send(origin(4), batchOf(1, "last", 1, 2));
    for (const sequence of [1n, 2n, 3n, 4n]) stream.reply(ack(sequence));
    expect(sent(stream)).toEqual([
      [1n, ["first-1"]],
      [2n, ["ref 1"]],
      [3n, ["ref 2"]],
      [4n, ["last-1"]],
    ]);
    const [, second] = stream.written.filter((message) => "sequence" in message);
    expect(second).toEqual({ sequence: 2n, batch: byRef(1) });
    expect(written.map((w) => w.origins)).toEqual([origin(1), origin(2), origin(3), origin(4)]);
  });

  it("retries a failed batch sent by reference through Core, with the events the consumer returned", async () => {
    const { consumer, streams, written } = link(
      "    retry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 1 }",
      undefined,
      2,
    );
    const stream = streams.last();
    consumer.send(origin(1), byRef(1));
    expect(consumer.holdsRefs).toBe(true);
    const returned = batchOf(2, "r", 1, 2);
    stream.reply(refAck(1n, AckStatus.ACK_STATUS_RETRYABLE_FAILURE, { returned }));
    // Waiting out its backoff, the delivery holds the events now, not the reference.
    expect(consumer.holdsRefs).toBe(false);
    await until(() => sent(stream).length === 2);
    expect(sent(stream)).toEqual([
      [1n, ["ref 1"]],
      [2n, ["r-1", "r-2"]],
    ]);
    stream.reply(ack(2n));
    expect(written).toEqual([{ origins: origin(1), ids: ["r-1", "r-2"] }]);
  });

  it("dead-letters the returned events of a batch sent by reference that failed for good", () => {
    const { consumer, streams, givenUp } = link("", undefined, 2);
    consumer.send(origin(1), byRef(1));
    const returned = batchOf(2, "bad", 1, 2);
    streams.last().reply(refAck(1n, AckStatus.ACK_STATUS_PERMANENT_FAILURE, { returned }));
    expect(givenUp.map(({ delivery }) => ids(delivery.batch))).toEqual([["bad-1", "bad-2"]]);
  });

  it("fails the run when a failed batch sent by reference comes back without its events", () => {
    const { consumer, streams, givenUp, fatal } = link("", undefined, 2);
    consumer.send(origin(1), byRef(1));
    streams.last().reply(refAck(1n, AckStatus.ACK_STATUS_RETRYABLE_FAILURE));
    expect(fatal.map((error) => error.message)).toEqual([
      'stage "sink": the service failed batch 1, which it was sent by reference (stream up-1 handle 1), without returning its events in BatchAck.returned',
    ]);
    expect(givenUp).toEqual([]);
    expect(streams.last().cancelled).toBe(true);
  });

  it("reports events that never reached the consumer (ref_missing) to the run, nothing else", () => {
    const { consumer, streams, written, givenUp, fatal, refsLost } = link("", undefined, 2);
    consumer.send(origin(1), byRef(7));
    streams.last().reply(refAck(1n, AckStatus.ACK_STATUS_RETRYABLE_FAILURE, { refMissing: true }));
    expect(refsLost).toEqual([
      'stage "sink": the events of batch 1, sent by reference (stream up-1 handle 7), never reached the service (ref_missing)',
    ]);
    expect([written, givenUp, fatal]).toEqual([[], [], []]);
    expect(sent(streams.last())).toHaveLength(1);
  });

  it("holds references while one is unanswered or waits for room", () => {
    const { consumer, streams } = link("    inFlight: 1", undefined, 2);
    const stream = streams.last();
    expect(consumer.holdsRefs).toBe(false);
    consumer.send(origin(1), batchOf(1, "a", 1, 2));
    expect(consumer.holdsRefs).toBe(false);
    consumer.send(origin(2), byRef(1));
    // Waiting behind a full stream.
    expect(consumer.holdsRefs).toBe(true);
    stream.reply(ack(1n));
    // Unanswered on the stream.
    expect(consumer.holdsRefs).toBe(true);
    stream.reply(ack(2n));
    expect(consumer.holdsRefs).toBe(false);
  });
});
