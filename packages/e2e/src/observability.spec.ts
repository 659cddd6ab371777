import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { FlowProcess, runFlow, serviceMain } from "./test-support/flow-cli";
import { tempDir } from "./test-support/temp-dir";

const TRACE_A = "0af7651916cd43dd8448eb211c80319c";
const SPAN_A = "b7ad6b7169203331";
const TRACE_B = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN_B = "00f067aa0ba902b7";
const traceparent = (trace: string, span: string) => `00-${trace}-${span}-01`;

const event = (id: string, parent?: string) =>
  JSON.stringify({
    specversion: "1.0",
    id,
    source: "test",
    type: "order",
    data: { total: 150 },
    ...(parent ? { traceparent: parent, tracestate: "vendor=x" } : {}),
  });

const filePipeline = (dir: string, input: string, output: string) => `
apiVersion: flow/v1
kind: Pipeline
metadata: { name: traced-${output.replace(/\W/g, "")} }
state: { url: ${JSON.stringify(`sqlite:${join(dir, "state.db")}`)} }
sources:
  - id: orders
    command: [node, ${JSON.stringify(serviceMain("@flow/source-file"))}]
    config: { path: ${JSON.stringify(join(dir, input))}, format: cloudevents }
processors:
  - id: keep
    command: [node, ${JSON.stringify(serviceMain("@flow/processor-filter"))}]
    inputs: [orders]
    config: { expression: "data.total > 100" }
consumers:
  - id: out
    command: [node, ${JSON.stringify(serviceMain("@flow/consumer-file"))}]
    inputs: [keep]
    config: { path: ${JSON.stringify(join(dir, output))} }
`;

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: { key: string; value: { stringValue?: string; intValue?: string | number } }[];
  links?: { traceId: string; spanId: string; traceState?: string }[];
}

/** A real OTLP/HTTP receiver: POST /v1/traces with a JSON body (gzip or not); keeps every span. */
async function otlpReceiver(): Promise<{ url: string; spans: OtlpSpan[]; server: Server }> {
  const spans: OtlpSpan[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      if (request.method !== "POST" || request.url !== "/v1/traces") {
        response.writeHead(404).end();
        return;
      }
      let body = Buffer.concat(chunks);
      if (request.headers["content-encoding"] === "gzip") body = gunzipSync(body);
      expect(request.headers["content-type"]).toContain("application/json");
      const decoded = JSON.parse(body.toString("utf8")) as {
        resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[];
      };
      for (const resource of decoded.resourceSpans)
        for (const scope of resource.scopeSpans) spans.push(...scope.spans);
      response.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans, server };
}

function attribute(span: OtlpSpan, key: string): string | number | undefined {
  const value = span.attributes.find((a) => a.key === key)?.value;
  return value?.stringValue ?? (value?.intValue !== undefined ? Number(value.intValue) : undefined);
}

async function fetchText(url: string): Promise<{ status: number; body: string; type: string }> {
  const response = await fetch(url);
  return {
    status: response.status,
    body: await response.text(),
    type: String(response.headers.get("content-type")),
  };
}

describe("Core observable like a service", () => {
  const dir = tempDir("observability");
  afterAll(() => dir.remove());

  it("keeps an event's traceparent end to end, from a file source to a file sink", async () => {
    dir.file("in-1.jsonl", `${event("e1", traceparent(TRACE_A, SPAN_A))}\n${event("e2")}\n`);
    const file = dir.file("kept.yaml", filePipeline(dir.path, "in-1.jsonl", "out-1.jsonl"));
    const result = await runFlow(["run", file, "--json"], { cwd: dir.path });
    expect(result.code).toBe(0);
    const written = readFileSync(join(dir.path, "out-1.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(written.map((e) => [e.id, e.traceparent, e.tracestate])).toEqual([
      ["e1", traceparent(TRACE_A, SPAN_A), "vendor=x"],
      ["e2", undefined, undefined],
    ]);
  }, 90_000);

  it("exports a span per batch per stage to the OTLP endpoint, linked to and parented by the events' traceparent", async () => {
    const receiver = await otlpReceiver();
    try {
      // One batch whose events share one trace context, then (another run) one that holds two.
      dir.file(
        "in-2.jsonl",
        `${event("a1", traceparent(TRACE_A, SPAN_A))}\n${event("a2", traceparent(TRACE_A, SPAN_A))}\n`,
      );
      const single = dir.file("single.yaml", filePipeline(dir.path, "in-2.jsonl", "out-2.jsonl"));
      const first = await runFlow(["run", single, "--otlp-endpoint", receiver.url], { cwd: dir.path });
      expect(first.code).toBe(0);
      const stages = receiver.spans.map((span) => attribute(span, "flow.stage.id")).sort();
      expect(stages).toEqual(["keep", "out"]);
      for (const span of receiver.spans) {
        expect(span.traceId).toBe(TRACE_A);
        expect(span.parentSpanId).toBe(SPAN_A);
        expect(span.links).toEqual([
          expect.objectContaining({ traceId: TRACE_A, spanId: SPAN_A, traceState: "vendor=x" }),
        ]);
        expect(attribute(span, "messaging.batch.message_count")).toBe(2);
      }
      expect(receiver.spans.find((s) => attribute(s, "flow.stage.id") === "out")).toMatchObject({
        name: "consumer out",
      });
      expect(attribute(receiver.spans[0] as OtlpSpan, "flow.stage.family")).toMatch(/processor|consumer/);

      receiver.spans.length = 0;
      dir.file(
        "in-3.jsonl",
        `${event("b1", traceparent(TRACE_A, SPAN_A))}\n${event("b2", traceparent(TRACE_B, SPAN_B))}\n`,
      );
      const mixed = dir.file("mixed.yaml", filePipeline(dir.path, "in-3.jsonl", "out-3.jsonl"));
      // The environment variable of the OpenTelemetry convention works as the flag does.
      const second = await runFlow(["run", mixed], {
        cwd: dir.path,
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url },
      });
      expect(second.code).toBe(0);
      expect(receiver.spans).toHaveLength(2);
      for (const span of receiver.spans) {
        expect(span.parentSpanId ?? "").toBe("");
        expect([TRACE_A, TRACE_B]).not.toContain(span.traceId);
        expect(span.links?.map((link) => [link.traceId, link.spanId])).toEqual([
          [TRACE_A, SPAN_A],
          [TRACE_B, SPAN_B],
        ]);
      }
    } finally {
      receiver.server.close();
    }
  }, 90_000);

  it("serves /metrics with process metrics, /healthz, and /readyz that turns 200 once every stage serves", async () => {
    const file = dir.file(
      "endless.yaml",
      `
apiVersion: flow/v1
kind: Pipeline
metadata: { name: endless }
state: { url: ${JSON.stringify(`sqlite:${join(dir.path, "state.db")}`)} }
sources:
  - id: gen
    command: [node, ${JSON.stringify(serviceMain("@flow/source-generator"))}]
    config: { count: 0, rate: 200 }
processors:
  - id: keep
    command: [node, ${JSON.stringify(serviceMain("@flow/processor-filter"))}]
    inputs: [gen]
    config: { expression: "true" }
consumers:
  - id: out
    command: [node, ${JSON.stringify(serviceMain("@flow/consumer-file"))}]
    inputs: [keep]
    config: { path: ${JSON.stringify(join(dir.path, "endless.jsonl"))} }
`,
    );
    const flow = new FlowProcess(
      ["run", file, "--http-port", "0", "--http-host", "0.0.0.0", "--no-progress"],
      {
        cwd: dir.path,
      },
    );
    try {
      const logged = JSON.parse(await flow.waitForLog(/"msg":"metrics"/)) as { url: string; readyz: string };
      expect(logged.url).toMatch(/^http:\/\/0\.0\.0\.0:\d+\/metrics$/);
      const base = logged.url.replace("0.0.0.0", "127.0.0.1").replace(/\/metrics$/, "");

      expect(await fetchText(`${base}/healthz`)).toMatchObject({ status: 200, body: '{"status":"ok"}\n' });
      // The services have not even started yet: no stage counts as serving.
      const early = await fetchText(`${base}/readyz`);
      expect(early.status).toBe(503);
      expect(early.type).toBe("application/json");
      expect(JSON.parse(early.body)).toMatchObject({
        status: "not ready",
        ready: false,
        notServing: ["gen", "keep", "out"],
      });

      // Health is polled as the run starts, well before its first interval (5 s) is up: the run's
      // first progress report, which /readyz answers from, already has every stage serving.
      await flow.waitForLog(/"msg":"progress"/);
      const ready = await fetchText(`${base}/readyz`);
      expect(ready.status).toBe(200);
      expect(JSON.parse(ready.body)).toMatchObject({
        status: "ready",
        notServing: [],
        stages: [
          { stage: "gen", family: "source", health: "serving" },
          { stage: "keep", family: "processor", health: "serving" },
          { stage: "out", family: "consumer", health: "serving" },
        ],
      });

      const metrics = await fetchText(`${base}/metrics`);
      expect(metrics.status).toBe(200);
      for (const name of [
        "process_cpu_user_seconds_total",
        "process_resident_memory_bytes",
        "nodejs_heap_size_used_bytes",
        "nodejs_eventloop_lag_seconds",
        "nodejs_gc_duration_seconds",
        "flow_stage_batches_total",
      ])
        expect(metrics.body).toContain(`# TYPE ${name} `);
      expect(metrics.body).toMatch(
        /flow_stage_serving\{stage="keep",family="processor",pipeline="endless"\} 1/,
      );
    } finally {
      flow.kill("SIGTERM");
      expect((await flow.wait()).code).toBe(130);
    }
  }, 90_000);
});
