import type { FamilyName } from "@flow/sdk/internal";
import type { PipelineProblem } from "./pipeline-problem";
import type { SourceLocation } from "./source-location";

/** The resolved, typed pipeline `loadPipeline` returns: every default applied, every path absolute. */
export interface Pipeline {
  apiVersion: "flow/v1";
  kind: "Pipeline";
  /** metadata.name: checkpoints and run history are keyed by it. */
  name: string;
  description?: string;
  /** Absolute path of the pipeline file. */
  file: string;
  /** The folder relative paths in the file are resolved against. */
  baseDir: string;
  state: StateStoreSettings;
  /** state.unreachableLimitMs: how long a run waits for an unreachable state store before it stops. */
  stateUnreachableLimitMs: number;
  deadLetters: DeadLetterSettings;
  /** The delivery guarantee (see the schema): at-least-once unless the file says at-most-once. */
  delivery: DeliveryGuarantee;
  /**
   * Whether the run may use the direct data path (docs/pipeline.md): the file's `directPath`, true
   * when left out, and false whatever the file says when FLOW_DIRECT_PATH is off, 0 or false. An
   * edge is direct only where both of its ends can do it, which negotiation finds out.
   */
  directPath: boolean;
  /**
   * Whether the data streams may carry bundles (several messages in one; bundled-link-stream.ts)
   * with the services that read them: false when FLOW_STREAM_BUNDLES is off, 0 or false. A plan
   * built without it (a test's) leaves them allowed.
   */
  streamBundles?: boolean;
  /** The file's `defaults` over Flow's built-in ones (what a stage without overrides gets). */
  defaults: StageSettings;
  /** In file order: sources, then processors, then consumers. */
  stages: PipelineStage[];
  /** Stage ids so that every stage comes after all of its inputs (file order breaks ties). */
  topologicalOrder: string[];
  /** For each source id, the consumers its events reach (whose acknowledgements commit its checkpoints). */
  consumersDownstream: Record<string, string[]>;
  /** Things that are allowed but probably not meant, such as a stage whose output nothing reads. */
  warnings: PipelineProblem[];
}

export interface PipelineStage {
  family: FamilyName;
  id: string;
  locator: ServiceLocator;
  /** The service's own configuration (validated later against the service's JSON Schema). */
  config: Record<string, unknown>;
  /** Ids this stage reads from (empty for sources). */
  inputs: string[];
  /** Ids that read from this stage (empty for consumers), in file order. */
  outputs: string[];
  settings: StageSettings;
  /** Where the stage is written, for messages about the stage as a whole. */
  location: SourceLocation;
}

/** How Flow finds a stage's service: exactly one way per stage. */
export type ServiceLocator =
  | { kind: "use"; packageName: string }
  | { kind: "command"; argv: string[]; cwd: string }
  | { kind: "address"; address: string }
  | { kind: "dns"; host: string; port: number; address: string }
  | { kind: "registry"; name: string };

export type StateStoreSettings =
  /** `path` is absolute, or ":memory:". `url` is `sqlite:<path>` with the resolved path. */
  { kind: "sqlite"; url: string; path: string } | { kind: "postgres"; url: string };

export type DeliveryGuarantee = "at-least-once" | "at-most-once";

export interface DeadLetterSettings {
  /** Absolute path of the JSON Lines file. */
  path: string;
  /** `deadLetters.allow`: how many dead letters a run may have and still succeed; none when left out. */
  allow?: DeadLetterAllowance;
}

/** A number of dead-lettered events, or a percentage of the events the sources read in the run. */
export type DeadLetterAllowance = { count: number } | { percent: number };

export interface BatchSettings {
  maxSize: number;
  /** At most this many bytes of encoded EventBatch per batch (Core also keeps under each service's announced limit). */
  maxBytes: number;
  lingerMs: number;
}

export interface RetrySettings {
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

export interface TimeoutSettings {
  handshakeMs: number;
  callMs: number;
  ackMs: number;
}

export interface RestartSettings {
  maxRestarts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

/** The effective settings of one stage. */
export interface StageSettings {
  batch: BatchSettings;
  /** Credits: batches that may be unacknowledged on each edge into or out of the stage. */
  inFlight: number;
  retry: RetrySettings;
  timeouts: TimeoutSettings;
  restart: RestartSettings;
  /**
   * The major of its family contract Core speaks with the stage (`contractMajor`), when the file
   * pins one; left out, the highest major both Core and the service speak.
   */
  contractMajor?: number;
  /**
   * A source's `commitIntervalMs`: at most one checkpoint commit per this many ms (0: as soon as
   * one is committable), when the file sets it on the source or in `defaults`; left out, the run's
   * interval (DEFAULT_COMMIT_INTERVAL_MS unless the runner is given another). Only sources and the
   * pipeline's defaults have it: nothing else commits.
   */
  commitIntervalMs?: number;
}

export function getStage(pipeline: Pipeline, id: string): PipelineStage | undefined {
  return pipeline.stages.find((stage) => stage.id === id);
}
