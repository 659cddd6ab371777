import { createEvent } from "@flow/sdk";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace";
import { PipelineMetrics } from "../engine/pipeline-metrics";
import { encodeEvents } from "../engine/raw-batch";
import { newCounters } from "../engine/stage-counters";
import { BatchTracing } from "./batch-tracing";
import { parseTraceparent } from "./trace-context";

const PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

async function fetchStatus(url: string): Promise<{ status: number; body: string }> {
  const response = await fetch(url);
  return { status: response.status, body: await response.text() };
}

describe("traceparent values", () => {
  it("are read as W3C Trace Context level 1 says", () => {
    expect(parseTraceparent(PARENT)).toMatchObject({
      traceId: "0af7651916cd43dd8448eb211c80319c",
      spanId: "b7ad6b7169203331",
      traceFlags: 1,
      isRemote: true,
    });
    expect(parseTraceparent("00-00000000000000000000000000000000-b7ad6b7169203331-01")).toBeUndefined();
    expect(parseTraceparent("ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")).toBeUndefined();
    expect(parseTraceparent(`${PARENT}-extra`)).toBeUndefined();
    expect(parseTraceparent("01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra")).toBeDefined();
    expect(parseTraceparent("not a traceparent")).toBeUndefined();
  });
});

describe("PipelineMetrics' spans", () => {
  it("times each answered batch and links it to its events' trace contexts", async () => {
    const spans: ReadableSpan[] = [];
    const exporter: SpanExporter = {
      export: (batch, done) => {
        spans.push(...batch);
        done({ code: 0 });
      },
      shutdown: async () => undefined,
    };
    const metrics = new PipelineMetrics("p", { tracing: BatchTracing.exportingTo(exporter) });
    const traced = createEvent({
      id: "1",
      source: "s",
      type: "t",
      extensions: { traceparent: { value: { $case: "stringValue", value: PARENT } } },
    });
    metrics.observeBatch(
      "keep",
      "processor",
      0.25,
      encodeEvents([traced, createEvent({ id: "2", source: "s", type: "t" })]),
    );
    metrics.observeOutcome("keep", "processed");
    metrics.observeBatch("out", "consumer", 0.1, encodeEvents([]));
    // An answer with nothing after it was a retryable failure: recorded when the next one comes.
    metrics.observeBatch("out", "consumer", 0.1, encodeEvents([]));
    metrics.observeOutcome("out", "failed", "disk full");
    await metrics.shutdown();
    expect(spans.map((span) => [span.name, span.attributes["flow.batch.outcome"]])).toEqual([
      ["processor keep", "processed"],
      ["consumer out", "retried"],
      ["consumer out", "failed"],
    ]);
    const [kept] = spans;
    expect(kept?.parentSpanContext?.spanId).toBe("b7ad6b7169203331");
    expect(kept?.spanContext().traceId).toBe("0af7651916cd43dd8448eb211c80319c");
    expect(kept?.links.map((link) => link.context.spanId)).toEqual(["b7ad6b7169203331"]);
    expect(kept?.attributes["messaging.batch.message_count"]).toBe(2);
    expect(spans[2]?.status).toMatchObject({ code: 2, message: "disk full" });
    expect(spans[2]?.parentSpanContext).toBeUndefined();
  });

  it("records nothing without tracing", async () => {
    const metrics = new PipelineMetrics("p");
    metrics.observeBatch("keep", "processor", 0.25, encodeEvents([]));
    metrics.observeOutcome("keep", "processed");
    await metrics.shutdown();
    expect(await metrics.registry.getSingleMetricAsString("flow_stage_batch_seconds")).toContain(
      'flow_stage_batch_seconds_count{pipeline="p",stage="keep",family="processor"} 1',
    );
  });
});

describe("PipelineMetrics' HTTP endpoints", () => {
  it("answer /readyz 503 naming the stages not serving, then 200; /healthz 200; /metrics with process metrics", async () => {
    const metrics = new PipelineMetrics("p", {
      stages: [
        { id: "gen", family: "source" },
        { id: "out", family: "consumer" },
      ],
    });
    const { port, server } = await metrics.serve(0, "127.0.0.1");
    try {
      const base = `http://127.0.0.1:${port}`;
      expect(JSON.parse((await fetchStatus(`${base}/readyz`)).body)).toMatchObject({
        ready: false,
        notServing: ["gen", "out"],
        stages: [
          { stage: "gen", health: "starting" },
          { stage: "out", health: "starting" },
        ],
      });
      const gen = { ...newCounters("gen", "source"), health: "serving" as const };
      const out = { ...newCounters("out", "consumer"), health: "not_serving" as const };
      metrics.update([gen, out]);
      const notReady = await fetchStatus(`${base}/readyz`);
      expect(notReady.status).toBe(503);
      expect(JSON.parse(notReady.body)).toMatchObject({ status: "not ready", notServing: ["out"] });
      metrics.update([gen, { ...out, health: "serving" }]);
      expect(await fetchStatus(`${base}/readyz`)).toMatchObject({ status: 200 });
      expect(await fetchStatus(`${base}/healthz`)).toEqual({ status: 200, body: '{"status":"ok"}\n' });
      const text = (await fetchStatus(`${base}/metrics`)).body;
      expect(text).toContain("# TYPE nodejs_eventloop_lag_seconds gauge");
      expect(text).toContain("# TYPE process_cpu_seconds_total counter");
      expect(text).toContain("# TYPE nodejs_gc_duration_seconds histogram");
      expect(await fetchStatus(`${base}/nope`)).toMatchObject({ status: 404 });
    } finally {
      server.close();
    }
  });
});

describe("PipelineMetrics' counters", () => {
  it("go on counting a stage a reload replaced, whose new counts start again from 0", async () => {
    const metrics = new PipelineMetrics("p", { stages: [{ id: "rule", family: "processor" }] });
    const { port, server } = await metrics.serve(0, "127.0.0.1");
    try {
      metrics.update([{ ...newCounters("rule", "processor"), eventsIn: 500 }]);
      // The replacement has seen 20 events so far: before, this threw (a counter cannot decrease).
      metrics.update([{ ...newCounters("rule", "processor"), eventsIn: 20 }]);
      const text = (await fetchStatus(`http://127.0.0.1:${port}/metrics`)).body;
      expect(text).toMatch(/flow_stage_events_in_total\{[^}]*stage="rule"[^}]*\} 520/);
    } finally {
      server.close();
    }
  });
});
