import { writeFileSync } from "node:fs";
import type { ConsumerDefinition } from "@flow/sdk";
import { LatencyRecorder } from "./latency-recorder";

export interface CountingConsumerConfig {
  /** Where to write the report (JSON) when the stream ends. */
  reportPath: string;
  /** Hold every batch from this many batches on, for this long (ms): the stalled-consumer scenario. */
  stallAfterBatches?: number;
  stallMs?: number;
  /**
   * Latency of events written in the first this-many ms after the first event is reported apart
   * (`latencyWarmup`): start-up garbage collection and JIT compilation in four fresh processes
   * are not the steady state. Default 0: every event counts as steady.
   */
  warmupMs?: number;
}

export interface LatencySummary {
  samples: number;
  p50: number;
  p99: number;
  p999: number;
}

export interface CountingReport {
  events: number;
  batches: number;
  /** Wall-clock ms of the first and last event written. */
  firstAt: number;
  lastAt: number;
  /** End-to-end latency (event time at the source -> written here), ms, after the warm-up. */
  latency: LatencySummary;
  /** The same for the events written during the warm-up (no samples without one). */
  latencyWarmup: LatencySummary;
  peakRssBytes: number;
}

/**
 * The benchmark's sink: decodes each batch (as any real sink must), counts events, and records
 * every event's end-to-end latency from its CloudEvents time, set by the generator when it made
 * the event. Both clocks are this machine's wall clock, so the figures are good to about 1 ms.
 */
export const countingConsumer: ConsumerDefinition<CountingConsumerConfig> = {
  name: "flow-bench-counting-consumer",
  version: "0.1.0",
  description: "Counts events and records their end-to-end latency; can stall on purpose",
  configSchema: {
    type: "object",
    required: ["reportPath"],
    additionalProperties: false,
    properties: {
      reportPath: { type: "string", minLength: 1 },
      stallAfterBatches: { type: "integer", minimum: 0 },
      stallMs: { type: "integer", minimum: 0 },
      warmupMs: { type: "integer", minimum: 0 },
    },
  },
  open(config) {
    const latency = new LatencyRecorder();
    const warmupLatency = new LatencyRecorder();
    let events = 0;
    let batches = 0;
    let firstAt = 0;
    let lastAt = 0;
    let peakRssBytes = 0;
    let stalled = false;
    return {
      async write(batch) {
        if (
          !stalled &&
          config.stallAfterBatches !== undefined &&
          batches >= config.stallAfterBatches &&
          config.stallMs
        ) {
          stalled = true;
          await new Promise((resolve) => setTimeout(resolve, config.stallMs));
        }
        const now = Date.now();
        firstAt ||= now;
        lastAt = now;
        const recorder = now - firstAt < (config.warmupMs ?? 0) ? warmupLatency : latency;
        for (const event of batch) {
          if (event.time) recorder.add(now - (Number(event.time.seconds) * 1000 + event.time.nanos / 1e6));
        }
        events += batch.length;
        batches += 1;
        if ((batches & 63) === 0) peakRssBytes = Math.max(peakRssBytes, process.memoryUsage().rss);
      },
      close() {
        const report: CountingReport = {
          events,
          batches,
          firstAt,
          lastAt,
          latency: summarize(latency),
          latencyWarmup: summarize(warmupLatency),
          peakRssBytes: Math.max(peakRssBytes, process.memoryUsage().rss),
        };
        writeFileSync(config.reportPath, JSON.stringify(report));
      },
    };
  },
};

function summarize(recorder: LatencyRecorder): LatencySummary {
  const [p50 = Number.NaN, p99 = Number.NaN, p999 = Number.NaN] = recorder.percentiles([50, 99, 99.9]);
  return { samples: recorder.count, p50, p99, p999 };
}
