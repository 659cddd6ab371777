import type { UserError } from "@flow/errors";
import type { Logger } from "pino";
import type { Pipeline } from "../config/pipeline-model";
import type { NegotiationProblem } from "../negotiation/negotiate";
import type { StateStore } from "../state";
import type { consumerStreams } from "./consumer-link";
import type { PipelineMetrics } from "./pipeline-metrics";
import type { processorStreams } from "./processor-link";
import type { SourceLinkParts } from "./source-link";
import type { StageCounters } from "./stage-counters";
import type { RunServices } from "./stage-services";

export type RunOutcome = "succeeded" | "failed" | "stopped";

export interface RunResult {
  runId: string;
  status: RunOutcome;
  error?: Error;
  stages: StageCounters[];
  deadLetters: number;
  /**
   * Times the direct data path lost batches Core held only by reference, and the sources read what
   * was in flight again from their checkpoints (data-plane-restart.ts): what a sink may have got twice.
   */
  dataPlaneRestarts: number;
  durationMs: number;
}

export interface RunnerOptions {
  plan: Pipeline;
  store: StateStore;
  logger: Logger;
  /** How often stage stats are saved to the state store (and the run heartbeats). */
  statsIntervalMs?: number;
  /** How often services' grpc.health.v1 status is polled. */
  healthIntervalMs?: number;
  /** How long a stop (SIGINT) waits for in-flight batches before giving up on them. */
  drainTimeoutMs?: number;
  /** The commit interval of a source whose settings name none (DEFAULT_COMMIT_INTERVAL_MS unless given); a source's own commitIntervalMs wins. */
  commitIntervalMs?: number;
  /** Latency histograms and counters (the CLI serves them). */
  metrics?: PipelineMetrics;
  /** Formats negotiation problems into user errors (the CLI maps config pointers to file:line:col). */
  describeProblem?: (problem: NegotiationProblem) => UserError;
  /** The stages' services (default: started, negotiated and watched by StageServices). */
  services?: RunServices;
  /** How streams are opened (default: gRPC); tests pass fakes. */
  streams?: Partial<RunStreams>;
}

/** How the run opens each family's stream. */
export interface RunStreams {
  source: SourceLinkParts["openStream"];
  processor: typeof processorStreams;
  consumer: typeof consumerStreams;
}
