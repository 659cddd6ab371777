// Core observable like a service: HTTP probes and metrics, and OpenTelemetry spans per batch.
export { type BatchOutcome, type BatchSpan, BatchTracing } from "./batch-tracing";
export { type ObservabilityHandlers, serveObservability } from "./observability-server";
export { type Readiness, readinessOf } from "./readiness";
export { eventTraceContexts, parseTraceparent } from "./trace-context";
