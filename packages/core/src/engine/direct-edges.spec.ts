import type { ComponentDescriptor } from "../gen/component/v1/component";
import { stageByteLimit } from "../negotiation/stage-byte-limit";
import {
  type DirectPathParts,
  directEdges,
  directPeers,
  edgePaths,
  isPushedTo,
  PEER_BATCH_EXTRA_FRAMING_BYTES,
} from "./direct-edges";
import { RunStages } from "./run-stages";
import type { StageRecord } from "./stage-record";
import { BATCH_REQUEST_FRAMING_BYTES } from "./stream-codecs";
import { planFrom } from "./test-support/fake-link-stream";

const MESSAGE_BYTES = 1 << 20;
/** Where each stage of the pipeline below listens (its `address`). */
const ADDRESSES: Record<string, string> = {
  src: "127.0.0.1:1",
  proc: "127.0.0.1:2",
  sink: "unix:/run/sink.sock",
  audit: "127.0.0.1:4",
};
const BATCH_BYTES = MESSAGE_BYTES - BATCH_REQUEST_FRAMING_BYTES;

/**
 * A fan-out pipeline: `src` feeds the processor `proc` and the consumer `audit`, `proc` feeds
 * `sink`. Each stage is negotiated at `majors[id]` (v2 unless said) and says features.direct_path
 * unless it is in `without`.
 */
function stages({
  majors = {},
  without = [],
  enabled = true,
  versions = {},
  bundles = [],
}: {
  majors?: Record<string, number>;
  without?: string[];
  enabled?: boolean;
  /** The contract release each stage says it serves ("2.1.0" unless said). */
  versions?: Record<string, string>;
  /** The stages whose data streams carry bundles (bundlesAgreed). */
  bundles?: string[];
} = {}) {
  const run = new RunStages(
    planFrom(`
metadata: { name: t }
sources: [{ id: src, address: "127.0.0.1:1" }]
processors: [{ id: proc, address: "127.0.0.1:2", inputs: [src], batch: { maxSize: 50 } }]
consumers:
  - { id: sink, address: "unix:/run/sink.sock", inputs: [proc], batch: { maxSize: 20, maxBytes: 4096 } }
  - { id: audit, address: "127.0.0.1:4", inputs: [src] }
`),
  );
  for (const record of run.records.values()) {
    // Each service announces 1 MiB requests: batches of 1 MiB less the request's framing, or batch.maxBytes.
    const announced = { limits: { maxMessageBytes: BigInt(MESSAGE_BYTES) } } as ComponentDescriptor;
    record.negotiated(stageByteLimit(record.stage, announced), !without.includes(record.id));
  }
  const parts: DirectPathParts = {
    enabled,
    endpoint: (id) => ({
      target: ADDRESSES[id] ?? "",
      contract: { name: "x", major: majors[id] ?? 2, version: versions[id] ?? "2.1.0" },
      bundles: bundles.includes(id),
    }),
  };
  const record = (id: string) => run.records.get(id) as StageRecord;
  return { run, parts, record };
}

describe("direct edges", () => {
  it("lets an upstream bundle its pushes only to a peer that reads bundles and serves 2.3 or later", () => {
    const { parts, record } = stages({
      versions: { proc: "2.3.0", audit: "2.2.0", sink: "2.3.1" },
      bundles: ["proc", "audit"],
    });
    // proc: bundles and 2.3; audit: bundles but 2.2 (reads them on Write only); sink: 2.3 without bundles.
    expect(directPeers(record("src"), parts).map((peer) => [peer.stageId, peer.bundles])).toEqual([
      ["proc", true],
      ["audit", false],
    ]);
    expect(directPeers(record("proc"), parts).map((peer) => peer.bundles)).toEqual([false]);
  });

  it("names every output of an upstream as a peer when every edge out of it is direct", () => {
    const { parts, record } = stages();
    expect(directPeers(record("src"), parts)).toEqual([
      {
        stageId: "proc",
        address: "127.0.0.1:2",
        maxBatchSize: 50,
        maxBatchBytes: BigInt(BATCH_BYTES - PEER_BATCH_EXTRA_FRAMING_BYTES),
        ingestMethod: "/flow.microservices.processor_service.v2.ProcessorService/Ingest",
        bundles: false,
      },
      {
        stageId: "audit",
        address: "127.0.0.1:4",
        maxBatchSize: 100,
        maxBatchBytes: BigInt(BATCH_BYTES - PEER_BATCH_EXTRA_FRAMING_BYTES),
        ingestMethod: "/flow.microservices.consumer_service.v2.ConsumerService/Ingest",
        bundles: false,
      },
    ]);
    // The limit is the one the Router cuts to: batch.maxBytes when it is the smaller.
    expect(directPeers(record("proc"), parts)).toEqual([
      {
        stageId: "sink",
        address: "unix:/run/sink.sock",
        maxBatchSize: 20,
        maxBatchBytes: BigInt(4096 - PEER_BATCH_EXTRA_FRAMING_BYTES),
        ingestMethod: "/flow.microservices.consumer_service.v2.ConsumerService/Ingest",
        bundles: false,
      },
    ]);
    expect(directPeers(record("sink"), parts)).toEqual([]);
    expect(directEdges(stages().run.records.values(), parts)).toEqual([
      "src -> proc",
      "src -> audit",
      "proc -> sink",
    ]);
  });

  it("gives an upstream no peers when one of its outputs cannot take references, the other edges staying direct", () => {
    for (const odd of [{ without: ["audit"] }, { majors: { audit: 1 } }]) {
      const { run, parts, record } = stages(odd);
      expect(directPeers(record("src"), parts)).toEqual([]);
      expect(directPeers(record("proc"), parts).map((peer) => peer.stageId)).toEqual(["sink"]);
      expect(directEdges(run.records.values(), parts)).toEqual(["proc -> sink"]);
    }
  });

  it("gives no peers from an upstream that cannot push, nor to a stage of either end at major 1", () => {
    expect(directPeers(stages({ without: ["src"] }).record("src"), stages().parts)).toEqual([]);
    const v1Source = stages({ majors: { src: 1 } });
    expect(directPeers(v1Source.record("src"), v1Source.parts)).toEqual([]);
    const v1Sink = stages({ majors: { sink: 1 } });
    expect(directPeers(v1Sink.record("proc"), v1Sink.parts)).toEqual([]);
  });

  it("gives no peers at all when the switch is off", () => {
    const { run, parts } = stages({ enabled: false });
    expect(directEdges(run.records.values(), parts)).toEqual([]);
  });

  it("reports every edge's path, and why one is through Core", () => {
    const all = stages();
    expect(edgePaths(all.run.records.values(), all.parts).map((edge) => edge.path)).toEqual([
      "direct",
      "direct",
      "direct",
    ]);
    const mixed = stages({ majors: { audit: 1 } });
    expect(edgePaths(mixed.run.records.values(), mixed.parts)).toEqual([
      {
        from: "src",
        to: "proc",
        path: "core",
        reason: '"src" pushes only when all its outputs can take it, and "audit" cannot',
      },
      {
        from: "src",
        to: "audit",
        path: "core",
        reason: '"audit" does not take part: its service speaks contract v1',
      },
      { from: "proc", to: "sink", path: "direct" },
    ]);
    const silent = stages({ without: ["sink"] });
    expect(edgePaths(silent.run.records.values(), silent.parts)[2]?.reason).toBe(
      '"sink" does not take part: its service speaks contract v2 and does not say features.direct_path',
    );
    const off = stages({ enabled: false });
    expect(edgePaths(off.run.records.values(), off.parts)[0]?.reason).toMatch(/^the direct data path is off/);
    const merging = stages();
    merging.record("sink").stage.settings.batch.maxSize = 80;
    expect(edgePaths(merging.run.records.values(), merging.parts)[2]?.reason).toBe(
      '"sink" takes larger batches (batch.maxSize 80) than "proc" makes (50): Core merges them',
    );
  });

  it("knows which stages an upstream pushes to", () => {
    const { run, parts, record } = stages({ without: ["audit"] });
    const pushed = [...run.records.values()].filter((r) => isPushedTo(r, run.records.values(), parts));
    expect(pushed.map((r) => r.id)).toEqual(["sink"]);
    expect(isPushedTo(record("proc"), run.records.values(), parts)).toBe(false);
  });

  it("says 0 (no limit) for a stage without a byte limit, and never 0 for a tiny one", () => {
    const { parts, record } = stages();
    record("sink").limit = { maxEvents: 20, maxBytes: Number.POSITIVE_INFINITY };
    expect(directPeers(record("proc"), parts)[0]?.maxBatchBytes).toBe(0n);
    record("sink").limit = { maxEvents: 20, maxBytes: 10 };
    expect(directPeers(record("proc"), parts)[0]?.maxBatchBytes).toBe(1n);
  });
});
