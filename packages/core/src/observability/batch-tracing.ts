import type { FlowEvent } from "@flow/sdk";
import { type Link, ROOT_CONTEXT, SpanKind, SpanStatusCode, type Tracer, trace } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, type SpanExporter, TracerProvider } from "@opentelemetry/sdk-trace";
import { eventTraceContexts } from "./trace-context";

/** How a batch's exchange with a stage ended, as the span's `flow.batch.outcome`. */
export type BatchOutcome = "processed" | "written" | "failed" | "retried";

export interface BatchSpan {
  pipeline: string;
  stageId: string;
  family: string;
  /** When the batch was sent and answered, in epoch milliseconds. */
  startMs: number;
  endMs: number;
  /** The batch's events (for their trace contexts); empty when the answer carried none. */
  events: readonly FlowEvent[];
  outcome: BatchOutcome;
  reason?: string;
}

/**
 * One span per batch per stage, exported over OTLP/HTTP. The span is linked to every distinct
 * W3C trace context the batch's events carry in their `traceparent` extension (a batch is many
 * messages: OpenTelemetry's messaging conventions link them), and parented by it when there is
 * exactly one, so a single producer's trace shows Flow's stages inside it.
 */
export class BatchTracing {
  private readonly tracer: Tracer;

  constructor(private readonly provider: TracerProvider) {
    this.tracer = provider.getTracer("flow-core");
  }

  /** Spans exported to `exporter` (OTLP/HTTP in a run; tests may pass their own). */
  static exportingTo(
    exporter: SpanExporter,
    serviceName = process.env.OTEL_SERVICE_NAME || "flow",
  ): BatchTracing {
    return new BatchTracing(
      new TracerProvider({
        resource: resourceFromAttributes({ "service.name": serviceName }),
        spanProcessors: [new BatchSpanProcessor({ exporter })],
      }),
    );
  }

  /**
   * Tracing as OpenTelemetry's environment conventions configure it: `endpoint` (`--otlp-endpoint`,
   * a base URL as OTEL_EXPORTER_OTLP_ENDPOINT is) or else OTEL_EXPORTER_OTLP_TRACES_ENDPOINT /
   * OTEL_EXPORTER_OTLP_ENDPOINT; undefined (no tracing) when none is set or OTEL_SDK_DISABLED=true.
   */
  static configured(endpoint?: string, env: NodeJS.ProcessEnv = process.env): BatchTracing | undefined {
    if (env.OTEL_SDK_DISABLED?.toLowerCase() === "true") return undefined;
    if (endpoint)
      return BatchTracing.exportingTo(
        new OTLPTraceExporter({ url: `${endpoint.replace(/\/+$/, "")}/v1/traces` }),
      );
    if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT)
      return BatchTracing.exportingTo(new OTLPTraceExporter());
    return undefined;
  }

  record(batch: BatchSpan): void {
    const contexts = eventTraceContexts(batch.events);
    const links: Link[] = contexts.map((context) => ({ context }));
    const parent =
      contexts.length === 1 ? trace.setSpanContext(ROOT_CONTEXT, contexts[0] as never) : ROOT_CONTEXT;
    const span = this.tracer.startSpan(
      `${batch.family} ${batch.stageId}`,
      {
        kind: SpanKind.CLIENT,
        startTime: batch.startMs,
        links,
        attributes: {
          "flow.pipeline": batch.pipeline,
          "flow.stage.id": batch.stageId,
          "flow.stage.family": batch.family,
          "flow.batch.outcome": batch.outcome,
          "messaging.batch.message_count": batch.events.length,
        },
      },
      parent,
    );
    if (batch.outcome === "failed" || batch.outcome === "retried")
      span.setStatus({ code: SpanStatusCode.ERROR, message: batch.reason });
    span.end(batch.endMs);
  }

  /** Exports what is still buffered and stops; call once at the end of the run. */
  shutdown(): Promise<void> {
    return this.provider.shutdown();
  }
}
