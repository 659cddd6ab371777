import type { Server } from "node:http";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { BatchOutcome, BatchTracing } from "../observability/batch-tracing";
import { serveObservability } from "../observability/observability-server";
import { type Readiness, readinessOf } from "../observability/readiness";
import { decodeEvents, type RawBatch } from "./raw-batch";
import type { StageCounters } from "./stage-counters";

export interface PipelineMetricsOptions {
  /** The pipeline's stages, so /readyz can name them before the first progress update. */
  stages?: readonly { id: string; family: string }[];
  /** Spans per batch per stage (`BatchTracing.configured(...)`); none when absent. */
  tracing?: BatchTracing;
}

/** An answer whose events are still to come (see `observeBatch`). */
interface AnsweredBatch {
  family: string;
  startMs: number;
  endMs: number;
  /** What the stage was sent: the span links the trace contexts of its events. */
  input: RawBatch;
}

/**
 * Prometheus metrics of a run: per-stage event, batch, dead-letter and restart counters and the
 * in-flight gauge, fed from the runner's counters on every progress tick (counters advance by the
 * difference since the last tick, so they stay monotonic), and the process's own metrics (CPU,
 * memory, event loop lag, GC: prom-client's default set). It also answers /readyz from the
 * stages' health, and records a span per batch per stage when tracing is configured.
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
  private readonly tracing: BatchTracing | undefined;

  /** Spans are recorded (an OTLP endpoint is configured): they need the events of every batch. */
  get traces(): boolean {
    return this.tracing !== undefined;
  }
  private readonly answered = new Map<string, AnsweredBatch>();
  private health: { stageId: string; family: string; health: string }[];

  constructor(
    private readonly pipeline: string,
    options: PipelineMetricsOptions = {},
  ) {
    this.tracing = options.tracing;
    this.health = (options.stages ?? []).map((stage) => ({
      stageId: stage.id,
      family: stage.family,
      health: "starting",
    }));
    this.registry.setDefaultLabels({ pipeline });
    collectDefaultMetrics({ register: this.registry });
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
      // A reload that replaces a stage starts its counts again from 0: what the new one counted
      // since is all new (a Prometheus counter never goes down).
      const since = (now: number, then = 0): number => (now >= then ? now - then : now);
      this.eventsIn.inc(labels, since(stage.eventsIn, before?.eventsIn));
      this.eventsOut.inc(labels, since(stage.eventsOut, before?.eventsOut));
      this.batches.inc(labels, since(stage.batchesIn, before?.batchesIn));
      this.deadLetters.inc(labels, since(stage.deadLetters, before?.deadLetters));
      this.restarts.inc(labels, since(stage.restarts, before?.restarts));
      this.inFlight.set(labels, stage.inFlight);
      this.healthy.set(labels, stage.health === "serving" ? 1 : 0);
      this.last.set(stage.stageId, { ...stage });
    }
    this.health = stages.map(({ stageId, family, health }) => ({ stageId, family, health }));
  }

  /** Ready when every stage's service is serving (its grpc.health.v1 status, as last polled). */
  readiness(): Readiness {
    return readinessOf(this.health);
  }

  /**
   * `input` was answered by `stage` `seconds` after it was sent. The link reports the answer
   * before what became of it, which `observeOutcome` then gives for the span; an answer with
   * nothing after it was a retryable failure, recorded as such when the stage's next one comes.
   */
  observeBatch(stage: string, family: string, seconds: number, input: RawBatch): void {
    this.batchSeconds.observe({ stage, family }, seconds);
    if (!this.tracing) return;
    this.flushAnswered(stage, "retried");
    const endMs = Date.now();
    this.answered.set(stage, { family, startMs: endMs - seconds * 1000, endMs, input });
  }

  /** What became of the batch `observeBatch` just reported (processed, written, given up on). Ends its span. */
  observeOutcome(stage: string, outcome: BatchOutcome, reason?: string): void {
    this.flushAnswered(stage, outcome, reason);
  }

  /** Records what is pending and exports every span still buffered (call once, at the end of the run). */
  async shutdown(): Promise<void> {
    for (const stage of [...this.answered.keys()]) this.flushAnswered(stage, "retried");
    await this.tracing?.shutdown();
  }

  private flushAnswered(stage: string, outcome: BatchOutcome, reason?: string): void {
    const pending = this.answered.get(stage);
    if (!pending || !this.tracing) return;
    this.answered.delete(stage);
    const { family, startMs, endMs, input } = pending;
    // A batch sent by reference has no events in Core: its span names none.
    const events = input.ref ? [] : decodeEvents(input);
    this.tracing.record({
      pipeline: this.pipeline,
      stageId: stage,
      family,
      startMs,
      endMs,
      events,
      outcome,
      reason,
    });
  }

  observeEventLatency(stage: string, seconds: number): void {
    if (seconds >= 0) this.eventSeconds.observe({ stage }, seconds);
  }

  /**
   * Serves GET /metrics, /healthz and /readyz on `host`:`port` (0: the OS chooses a port);
   * resolves with the bound port.
   */
  serve(port: number, host = "127.0.0.1"): Promise<{ port: number; server: Server }> {
    return serveObservability(
      {
        metrics: async () => ({
          contentType: this.registry.contentType,
          text: await this.registry.metrics(),
        }),
        readiness: () => this.readiness(),
      },
      port,
      host,
    );
  }
}
