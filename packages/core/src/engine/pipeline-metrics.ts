import { createServer, type Server } from "node:http";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { StageCounters } from "./stage-counters";

// `flow test`'s engine side, exported from here (engine/index.ts re-exports this file) until
// packages/core/src/index.ts exports "./pipeline-test" itself.
export * from "../pipeline-test";

/**
 * Prometheus metrics of a run: per-stage event, batch, dead-letter and restart counters and the
 * in-flight gauge, fed from the runner's counters on every progress tick (counters advance by the
 * difference since the last tick, so they stay monotonic).
 */
export class PipelineMetrics {
  readonly registry = new Registry();
  private readonly last = new Map<string, StageCounters>();
  private readonly eventsIn: Counter<"stage" | "family">;
  private readonly eventsOut: Counter<"stage" | "family">;
  private readonly batches: Counter<"stage" | "family">;
  private readonly deadLetters: Counter<"stage" | "family">;
  private readonly restarts: Counter<"stage" | "family">;
  private readonly inFlight: Gauge<"stage" | "family">;
  private readonly healthy: Gauge<"stage" | "family">;
  private readonly batchSeconds: Histogram<"stage" | "family">;
  private readonly eventSeconds: Histogram<"stage">;

  constructor(pipeline: string) {
    this.registry.setDefaultLabels({ pipeline });
    const labelNames = ["stage", "family"] as const;
    const counter = (name: string, help: string) =>
      new Counter({ name, help, labelNames, registers: [this.registry] });
    this.eventsIn = counter("flow_stage_events_in_total", "Events sent to the stage");
    this.eventsOut = counter(
      "flow_stage_events_out_total",
      "Events the stage emitted (sources, processors) or wrote (consumers)",
    );
    this.batches = counter("flow_stage_batches_total", "Batches the stage received (sources: sent)");
    this.deadLetters = counter("flow_stage_dead_letters_total", "Events the stage dead-lettered");
    this.restarts = counter(
      "flow_stage_restarts_total",
      "Times the stage's service was restarted or reconnected",
    );
    this.inFlight = new Gauge({
      name: "flow_stage_in_flight_batches",
      help: "Batches sent to the stage and not yet answered",
      labelNames,
      registers: [this.registry],
    });
    this.batchSeconds = new Histogram({
      name: "flow_stage_batch_seconds",
      help: "Time from sending a batch to a stage until its answer (processors) or acknowledgement (consumers)",
      labelNames,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
    this.eventSeconds = new Histogram({
      name: "flow_event_latency_seconds",
      help: "End to end: from an event's CloudEvents time to its acknowledgement by a consumer (one sample per batch)",
      labelNames: ["stage"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [this.registry],
    });
    this.healthy = new Gauge({
      name: "flow_stage_serving",
      help: "1 when the stage's grpc.health.v1 status is SERVING",
      labelNames,
      registers: [this.registry],
    });
  }

  update(stages: readonly StageCounters[]): void {
    for (const stage of stages) {
      const labels = { stage: stage.stageId, family: stage.family };
      const before = this.last.get(stage.stageId);
      this.eventsIn.inc(labels, stage.eventsIn - (before?.eventsIn ?? 0));
      this.eventsOut.inc(labels, stage.eventsOut - (before?.eventsOut ?? 0));
      this.batches.inc(labels, stage.batchesIn - (before?.batchesIn ?? 0));
      this.deadLetters.inc(labels, stage.deadLetters - (before?.deadLetters ?? 0));
      this.restarts.inc(labels, stage.restarts - (before?.restarts ?? 0));
      this.inFlight.set(labels, stage.inFlight);
      this.healthy.set(labels, stage.health === "serving" ? 1 : 0);
      this.last.set(stage.stageId, { ...stage });
    }
  }

  observeBatch(stage: string, family: string, seconds: number): void {
    this.batchSeconds.observe({ stage, family }, seconds);
  }

  observeEventLatency(stage: string, seconds: number): void {
    if (seconds >= 0) this.eventSeconds.observe({ stage }, seconds);
  }

  /** Serves GET /metrics on `port` (0: the OS chooses); resolves with the bound port. */
  serve(port: number, host = "127.0.0.1"): Promise<{ port: number; server: Server }> {
    const server = createServer((request, response) => {
      if (request.url !== "/metrics") {
        response.writeHead(404).end("not found: try /metrics\n");
        return;
      }
      this.registry.metrics().then(
        (text) => response.writeHead(200, { "content-type": this.registry.contentType }).end(text),
        (error: Error) => response.writeHead(500).end(error.message),
      );
    });
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        const address = server.address();
        resolve({ port: typeof address === "object" && address ? address.port : port, server });
      });
    });
  }
}
