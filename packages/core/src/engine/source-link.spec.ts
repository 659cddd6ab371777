import type { Peer } from "../gen/peer/v1/peer";
import type { ReadRequest } from "../gen/source_service/v2/source";
import { SourceLink } from "./source-link";
import type { SourceMessage } from "./stream-codecs";
import { batchOf, fakeStreams, planFrom, settle, silentLogger } from "./test-support/fake-link-stream";
import { samplePeer } from "./test-support/sample-peer";

function sourceLink({
  major,
  peers,
  bundles,
}: {
  major?: number;
  peers?: () => Peer[];
  bundles?: boolean;
} = {}) {
  const plan = planFrom(`
metadata: { name: t }
sources: [{ id: src, address: "127.0.0.1:1", batch: { maxSize: 50, lingerMs: 7 }, config: { path: x } }]
consumers: [{ id: sink, address: "127.0.0.1:2", inputs: [src] }]
`);
  const stage = plan.stages.find((s) => s.id === "src") as (typeof plan.stages)[number];
  const streams = fakeStreams<ReadRequest, SourceMessage>();
  const events: string[] = [];
  const link = new SourceLink(
    {
      stage,
      endpoint: {
        target: "fake:0",
        contract:
          major === undefined ? undefined : { name: "source_service", major, version: `${major}.1.0` },
        bundles,
      },
      openStream: streams,
      logger: silentLogger,
      maxBatchBytes: 4096,
      peers,
    },
    {
      onBatch: (sequence, batch, checkpoint) =>
        events.push(`batch ${sequence} (${batch.count}) ${checkpoint.description}`),
      onExhausted: () => events.push("exhausted"),
      onBroken: (reason, permanent) => events.push(`broken${permanent ? " for good" : ""}: ${reason}`),
    },
  );
  return { link, streams, events };
}

describe("SourceLink", () => {
  it("names the peers of the direct data path in ReadStart, asked at every open, on a v2 stream only", () => {
    const peer = samplePeer();
    let asked = 0;
    const peers = () => {
      asked += 1;
      return [peer];
    };
    const startOf = (link: SourceLink, streams: ReturnType<typeof sourceLink>["streams"]) => {
      link.open(undefined, 1);
      const start = streams.last().written[0]?.request;
      return start?.$case === "start" ? start.value.peers : undefined;
    };
    const v2 = sourceLink({ major: 2, peers });
    expect(startOf(v2.link, v2.streams)).toEqual([peer]);
    expect(startOf(v2.link, v2.streams)).toEqual([peer]);
    expect(asked).toBe(2);
    const v1 = sourceLink({ major: 1, peers });
    expect(startOf(v1.link, v1.streams)).toEqual([]);
    expect(asked).toBe(2);
  });

  it("opens a stream that carries bundles, and says so in ReadStart, only when negotiation agreed on them", () => {
    const startOf = (bundles?: boolean) => {
      const { link, streams } = sourceLink({ major: 2, bundles });
      link.open(undefined, 1);
      const start = streams.last().written[0]?.request;
      return [streams.bundles, start?.$case === "start" && start.value.acceptsBundles];
    };
    expect(startOf(true)).toEqual([[true], true]);
    expect(startOf(false)).toEqual([[false], false]);
    expect(startOf(undefined)).toEqual([[false], false]);
  });

  it("starts the stream after the checkpoint with the stage's credits, batch size, linger and byte limit", () => {
    const { link, streams } = sourceLink();
    link.open({ position: Buffer.from("42"), description: "byte 42" }, 8);
    expect(streams.last().written[0]).toEqual({
      request: {
        $case: "start",
        value: {
          configJson: '{"path":"x"}',
          checkpoint: { position: Buffer.from("42"), description: "byte 42" },
          initialCredits: 8,
          maxBatchSize: 50,
          maxBatchBytes: 4096n,
          lingerMs: 7,
          stageId: "src",
          peers: [],
          acceptsBundles: false,
        },
      },
    });
  });

  it("passes batches and the end on, and grants the credits of one event-loop turn as one message", async () => {
    const { link, streams, events } = sourceLink();
    link.open(undefined, 2);
    const stream = streams.last();
    const checkpoint = { position: Buffer.from("1"), description: "one" };
    stream.reply({ kind: "batch", sequence: 1n, batch: batchOf(3), checkpoint });
    link.grant(1);
    link.grant(2);
    await settle();
    expect(stream.written.slice(1)).toEqual([{ request: { $case: "credit", value: { batches: 3 } } }]);
    link.commit(1n, checkpoint);
    expect(stream.written.at(-1)).toEqual({
      request: { $case: "commit", value: { sequence: 1n, checkpoint } },
    });
    stream.reply({ kind: "exhausted", lastSequence: 1n });
    expect(events).toEqual(["batch 1 (3) one", "exhausted"]);
  });

  it("tells a crash (recover) from FAILED_PRECONDITION (the source says restarting will not help)", () => {
    const first = sourceLink();
    first.link.open(undefined, 1);
    first.streams.last().fail("connection reset", 14);
    expect(first.events).toEqual(["broken: stream failed: connection reset"]);

    const second = sourceLink();
    second.link.open(undefined, 1);
    second.streams.last().fail("/data/in.jsonl was replaced", 9);
    expect(second.events).toEqual(["broken for good: /data/in.jsonl was replaced"]);
  });

  it("drops credits granted to a stream that is gone: its successor starts with credits of its own", async () => {
    const { link, streams } = sourceLink();
    link.open(undefined, 1);
    const first = streams.last();
    link.grant(5);
    link.open(undefined, 1);
    await settle();
    expect(first.written).toHaveLength(1);
    expect(streams.last().written).toHaveLength(1);
  });

  it("closes by half-closing, and resolves when the source ends its stream", async () => {
    const { link, streams, events } = sourceLink();
    link.open(undefined, 1);
    const stream = streams.last();
    const closed = link.close();
    expect(stream.ended).toBe(true);
    stream.finish();
    await closed;
    expect(events).toEqual([]);
    expect(streams.closed).toBeGreaterThanOrEqual(1);
  });
});
