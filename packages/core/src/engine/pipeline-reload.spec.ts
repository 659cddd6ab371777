import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { WriteResponse } from "../gen/consumer_service/v1/consumer";
import type { WriteRequest } from "../gen/consumer_service/v2/consumer";
import type { ProcessRequest } from "../gen/processor_service/v2/processor";
import type { ReadRequest } from "../gen/source_service/v2/source";
import { openStateStore, type StateStore } from "../state";
import { PipelineReloads, type ReloadableRun } from "./pipeline-reload";
import { PipelineRunner } from "./pipeline-runner";
import { decodeEvents } from "./raw-batch";
import { RunStages } from "./run-stages";
import type { LinkRequest, ProcessorAnswer, SourceMessage } from "./stream-codecs";
import { checkpoint, written } from "./test-support/fake-answers";
import {
  batchOf,
  type FakeLinkStream,
  fakeStreams,
  planFrom,
  settle,
  silentLogger,
  until,
} from "./test-support/fake-link-stream";
import { fakeServices } from "./test-support/fake-services";

type ProcessorStream = FakeLinkStream<LinkRequest<ProcessRequest>, ProcessorAnswer | undefined>;
type ConsumerStream = FakeLinkStream<LinkRequest<WriteRequest>, WriteResponse>;

/** The batches a processor or consumer stream was sent, as event ids, with their sequences. */
const sentOn = (stream: ProcessorStream | ConsumerStream) =>
  stream.written.flatMap((message) =>
    "sequence" in message
      ? [{ sequence: message.sequence, ids: decodeEvents(message.batch).map((e) => e.id) }]
      : [],
  );

/** The service's side of a half-close: it ends the stream too. */
const endsWhenHalfClosed = (stream: ProcessorStream | ConsumerStream) =>
  stream.on("half-closed", () => stream.finish());

describe("PipelineRunner.reload over fake services and streams, with a real SQLite store", () => {
  let dir: string;
  let store: StateStore;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "flow-reload-"));
    store = await openStateStore(`sqlite:${join(dir, "state.db")}`, { baseDir: dir });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const pipeline = (expression: string, extra = "") =>
    planFrom(`
metadata: { name: reload-spec }
deadLetters: { path: ${JSON.stringify(join(dir, "dead.jsonl"))} }
defaults: { inFlight: 2 }
sources: [{ id: src, address: "127.0.0.1:1" }]
processors: [{ id: rule, address: "127.0.0.1:2", inputs: [src], config: { expression: "${expression}" } }]
consumers:
  - { id: sink, address: "127.0.0.1:3", inputs: [rule] }
${extra}`);

  function start() {
    const services = fakeServices(["src", "rule", "sink"]);
    const sources = fakeStreams<ReadRequest, SourceMessage>();
    const processors = fakeStreams<LinkRequest<ProcessRequest>, ProcessorAnswer | undefined>();
    const consumers = fakeStreams<LinkRequest<WriteRequest>, WriteResponse>();
    const runner = new PipelineRunner({
      plan: pipeline("old"),
      store,
      logger: silentLogger,
      services,
      streams: { source: sources, processor: processors, consumer: consumers },
      commitIntervalMs: 0,
      statsIntervalMs: 60_000,
      drainTimeoutMs: 100,
    });
    const running = runner.run();
    return { runner, services, sources, processors, consumers, running };
  }

  it("drains, replaces the changed stage from a batch boundary, and keeps the source's stream and the sink's", async () => {
    const { runner, services, sources, processors, consumers, running } = start();
    await until(() => sources.streams.length === 1 && processors.streams.length === 1);
    const source = sources.last();
    const oldRule = processors.last();
    const sink = consumers.last();
    endsWhenHalfClosed(oldRule);
    source.reply({ kind: "batch", sequence: 1n, batch: batchOf(2, "a"), checkpoint: checkpoint(1) });

    const reloaded = runner.reload(pipeline("new"));
    await settle();
    // The source sends on a credit it still had: that batch waits for the new rule.
    source.reply({ kind: "batch", sequence: 2n, batch: batchOf(2, "b"), checkpoint: checkpoint(2) });
    await settle();
    expect(sentOn(oldRule)).toEqual([{ sequence: 1n, ids: ["a-1", "a-2"] }]);
    expect(processors.streams).toHaveLength(1);

    // What was in flight is answered, written and committed: only then does the rule change.
    oldRule.reply({ inputSequence: 1n, batch: batchOf(2, "a"), deadLetters: [] });
    sink.reply(written(1n));
    const result = await reloaded;
    expect(result).toMatchObject({
      applied: true,
      changes: { kept: ["src", "sink"], replaced: ["rule"], removed: [], added: [] },
    });
    expect((await store.getCheckpoint("reload-spec", "src"))?.description).toBe("after 1");
    expect(oldRule.ended).toBe(true);
    expect(services.retired).toEqual(["rule"]);

    const newRule = processors.last();
    expect(processors.streams).toHaveLength(2);
    const started = newRule.written[0] as { start: { request: { value: { configJson: string } } } };
    expect(JSON.parse(started.start.request.value.configJson)).toEqual({ expression: "new" });
    expect(sentOn(newRule)).toEqual([{ sequence: 1n, ids: ["b-1", "b-2"] }]);
    // The source and the sink kept their streams: no reopen, no restart.
    expect(sources.streams).toHaveLength(1);
    expect(consumers.streams).toHaveLength(1);
    expect(services.endpoints.get("src")?.recoveries).toEqual([]);

    newRule.reply({ inputSequence: 1n, batch: batchOf(2, "b"), deadLetters: [] });
    expect(sentOn(sink).map((batch) => batch.ids)).toEqual([
      ["a-1", "a-2"],
      ["b-1", "b-2"],
    ]);
    sink.reply(written(2n));
    await until(() =>
      source.written.some((m) => m.request?.$case === "commit" && m.request.value.sequence === 2n),
    );
    endsWhenHalfClosed(newRule);
    endsWhenHalfClosed(sink);
    runner.stop();
    await until(() => source.ended);
    source.finish();
    expect((await running).status).toBe("stopped");
    expect((await store.getCheckpoint("reload-spec", "src"))?.description).toBe("after 2");
  });

  it("adds a consumer to a running source without restarting it: the new one gets the next batches too", async () => {
    const { runner, sources, consumers, running } = start();
    await until(() => sources.streams.length === 1 && consumers.streams.length === 1);
    const source = sources.last();
    const result = await runner.reload(
      pipeline("old", `  - { id: audit, address: "127.0.0.1:4", inputs: [src] }\n`),
    );
    expect(result).toMatchObject({
      applied: true,
      changes: { kept: ["src", "rule", "sink"], added: ["audit"] },
    });
    expect(consumers.streams).toHaveLength(2);
    const audit = consumers.last();
    source.reply({ kind: "batch", sequence: 1n, batch: batchOf(1, "c"), checkpoint: checkpoint(1) });
    expect(sentOn(audit)).toEqual([{ sequence: 1n, ids: ["c-1"] }]);
    expect(sources.streams).toHaveLength(1);
    runner.stop();
    for (const stream of [...consumers.streams]) stream.finish();
    await settle();
    source.finish();
    await running;
  });

  it("refuses a new file whose services cannot start, leaving the run as it was", async () => {
    const { runner, services, sources, processors, running } = start();
    await until(() => sources.streams.length === 1 && processors.streams.length === 1);
    services.refusePrepare = new Error('stage "rule": config /expression: unknown identifier "amout"');
    const result = await runner.reload(pipeline("broken"));
    expect(result.applied).toBe(false);
    expect(result.error?.message).toBe('stage "rule": config /expression: unknown identifier "amout"');
    // Not paused: the source still gets its credits, and batches still flow through the old rule.
    const source = sources.last();
    source.reply({ kind: "batch", sequence: 1n, batch: batchOf(1, "d"), checkpoint: checkpoint(1) });
    expect(sentOn(processors.last())).toEqual([{ sequence: 1n, ids: ["d-1"] }]);
    expect(processors.streams).toHaveLength(1);
    runner.stop();
    await settle();
    source.finish();
    await running;
  });

  it("refuses a change to a setting of the run itself", async () => {
    const { runner, sources, running } = start();
    await until(() => sources.streams.length === 1);
    const next = { ...pipeline("old"), delivery: "at-most-once" as const };
    const result = await runner.reload(next);
    expect(result.applied).toBe(false);
    expect(result.error?.message).toBe(
      "delivery cannot change while the pipeline runs: stop it and run it again",
    );
    const switched = await runner.reload({ ...pipeline("old"), directPath: false });
    expect(switched.error?.message).toBe(
      "directPath cannot change while the pipeline runs: stop it and run it again",
    );
    runner.stop();
    await settle();
    sources.last().finish();
    await running;
  });
});

describe("PipelineReloads over a fake run", () => {
  const version = (expression: string) =>
    planFrom(`
metadata: { name: reloads-spec }
sources: [{ id: src, address: "127.0.0.1:1" }]
processors: [{ id: rule, address: "127.0.0.1:2", inputs: [src], config: { expression: "${expression}" } }]
consumers: [{ id: sink, address: "127.0.0.1:3", inputs: [rule] }]
`);

  /** A run whose sources record what the reload has them do; `quiet` is what each quiesce waits for. */
  function fakeRun() {
    const steps: string[] = [];
    const state = { running: true, quiet: (): Promise<void> => Promise.resolve() };
    const run: ReloadableRun = {
      stages: new RunStages(version("v0")),
      services: fakeServices(["src", "rule", "sink"]),
      sources: {
        quiesce: async () => {
          steps.push("quiesce");
          await state.quiet();
        },
        remove: async (ids) => void steps.push(`remove [${ids.join(", ")}]`),
        add: async (ids) => void steps.push(`add [${ids.join(", ")}]`),
        resume: () => void steps.push("resume"),
      },
      logger: silentLogger,
      openLinks: (records) => {
        steps.push(`open [${records.map((record) => record.id).join(", ")}]`);
        return [];
      },
      restreamDirectPath: () => void steps.push("restream"),
      running: () => state.running,
    };
    return { reloads: new PipelineReloads(run), run, steps, state };
  }

  const expressionOf = (run: ReloadableRun) => run.stages.records.get("rule")?.stage.config;

  it("refuses while the run is not running, with the changes it would have made, touching nothing", async () => {
    const { reloads, run, steps, state } = fakeRun();
    state.running = false;
    const result = await reloads.apply(version("v1"));
    expect(result).toMatchObject({ applied: false, changes: { replaced: ["rule"] } });
    expect(result.error?.message).toBe("the pipeline is not running (it is starting or stopping)");
    expect(steps).toEqual([]);
    expect(expressionOf(run)).toEqual({ expression: "v0" });
  });

  it("applies reloads one at a time, in the order asked, each against the pipeline the one before left", async () => {
    const { reloads, run, steps, state } = fakeRun();
    let drained: () => void = () => undefined;
    state.quiet = () =>
      new Promise((resolve) => {
        drained = resolve;
      });
    const first = reloads.apply(version("v1"));
    const second = reloads.apply(version("v2"));
    await settle();
    expect(steps).toEqual(["quiesce"]);
    state.quiet = () => Promise.resolve();
    drained();
    const results = await Promise.all([first, second]);
    // The streams reopen (with the peers of the new pipeline) after the new links open, before the sources go on.
    const oneReload = ["quiesce", "remove []", "open [rule]", "restream", "add []", "resume"];
    expect(steps).toEqual([...oneReload, ...oneReload]);
    expect(results.map((result) => [result.applied, result.changes.replaced])).toEqual([
      [true, ["rule"]],
      [true, ["rule"]],
    ]);
    expect(expressionOf(run)).toEqual({ expression: "v2" });
    expect(run.stages.plan.stages.find((stage) => stage.id === "rule")?.config).toEqual({ expression: "v2" });
  });

  it("goes on with the next reload after one that threw", async () => {
    const { reloads, run, state } = fakeRun();
    let failures = 1;
    state.quiet = () =>
      failures-- > 0 ? Promise.reject(new Error("the sources could not drain")) : Promise.resolve();
    const failed = reloads.apply(version("v1"));
    const next = reloads.apply(version("v2"));
    await expect(failed).rejects.toThrow("the sources could not drain");
    expect((await next).applied).toBe(true);
    expect(expressionOf(run)).toEqual({ expression: "v2" });
  });
});
