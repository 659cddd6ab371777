import type { LinkEndpoint } from "./link-stream";
import { RunDirectPath } from "./run-direct-path";
import { RunStages } from "./run-stages";
import type { StageRecord } from "./stage-record";
import { planFrom } from "./test-support/fake-link-stream";

/** src -> sink, both at v2; `direct` says which stages said features.direct_path. */
function runOf(direct: string[], directPath = true, traces = false, sinkBatch = "") {
  const stages = new RunStages(
    planFrom(`
metadata: { name: t }
directPath: ${directPath}
sources: [{ id: src, address: "127.0.0.1:1" }]
consumers: [{ id: sink, address: "127.0.0.1:2", inputs: [src]${sinkBatch} }]
`),
  );
  for (const record of stages.records.values()) record.negotiated(undefined, direct.includes(record.id));
  const logged: { msg: string; edges?: string[] }[] = [];
  const logger = {
    info: (first: unknown, second?: string) =>
      logged.push(
        typeof first === "string" ? { msg: first } : { ...(first as object), msg: second as string },
      ),
  };
  const endpoint = (id: string): Pick<LinkEndpoint, "target" | "contract"> => ({
    target: `fake:${id}`,
    contract: { name: "x", major: 2, version: "2.1.0" },
  });
  const path = new RunDirectPath({
    stages,
    services: { endpoint } as never,
    logger: logger as never,
    traces,
  });
  const record = (id: string) => stages.records.get(id) as StageRecord;
  return { path, stages, logged, record };
}

describe("RunDirectPath", () => {
  it("names an upstream its peers and logs the direct edges at the start", () => {
    const { path, logged, record } = runOf(["src", "sink"]);
    expect(path.peersOf(record("src")).map((peer) => [peer.stageId, peer.address])).toEqual([
      ["sink", "fake:sink"],
    ]);
    path.started();
    expect(logged).toEqual([{ edges: ["src -> sink"], msg: "direct data path" }]);
  });

  it("says so when the switch is off, or when no edge can use it", () => {
    const off = runOf(["src", "sink"], false);
    off.path.started();
    expect(off.logged.map((line) => line.msg)).toEqual([
      "direct data path off: every batch goes through Core",
    ]);
    expect(off.path.peersOf(off.record("src"))).toEqual([]);
    const none = runOf(["src"]);
    none.path.started();
    expect(none.logged.map((line) => line.msg)).toEqual(["direct data path: no edge can use it"]);
  });

  it("after a reload, reopens the streams when an edge is direct now or was before", () => {
    const { path, record } = runOf(["src", "sink"]);
    path.started();
    // Still direct.
    expect(path.reloaded()).toBe(true);
    // The sink was replaced by one that cannot take references: the source still names the old one.
    record("sink").negotiated(undefined, false);
    expect(path.reloaded()).toBe(true);
    // Nothing direct before or now: the streams stay.
    expect(path.reloaded()).toBe(false);
  });

  it("keeps every batch through Core while tracing: a span needs its events' trace contexts", () => {
    const { path, logged, record } = runOf(["src", "sink"], true, true);
    expect(path.peersOf(record("src"))).toEqual([]);
    path.started();
    expect(logged.map((line) => line.msg)).toEqual([
      "direct data path off while tracing: a batch's span needs its events' trace contexts, which Core reads only from batches that go through it",
    ]);
  });

  it("keeps through Core an edge into a stage that takes larger batches than its upstream makes (Core merges for it)", () => {
    const { path, record } = runOf(["src", "sink"], true, false, ", batch: { maxSize: 500 }");
    expect(path.peersOf(record("src"))).toEqual([]);
  });
});
