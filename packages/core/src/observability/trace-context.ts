import type { FlowEvent } from "@flow/sdk";
import { createTraceState, type SpanContext, TraceFlags } from "@opentelemetry/api";

/** `version-traceid-parentid-flags`, lower-case hex (W3C Trace Context, level 1). */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const INVALID_TRACE_ID = "0".repeat(32);
const INVALID_SPAN_ID = "0".repeat(16);

/**
 * The span context a W3C `traceparent` value names, or undefined when it is not one (a
 * malformed or all-zero id, version ff, or a version-00 value with extra fields). `tracestate`
 * rides along when the event has one.
 */
export function parseTraceparent(value: string, tracestate?: string): SpanContext | undefined {
  const match = TRACEPARENT.exec(value.trim());
  if (!match) return undefined;
  const [, version, traceId, spanId, flags, rest] = match as unknown as string[];
  if (version === "ff" || (version === "00" && rest !== undefined)) return undefined;
  if (traceId === INVALID_TRACE_ID || spanId === INVALID_SPAN_ID) return undefined;
  const context: SpanContext = {
    traceId: traceId as string,
    spanId: spanId as string,
    traceFlags: Number.parseInt(flags as string, 16) & TraceFlags.SAMPLED,
    isRemote: true,
  };
  if (tracestate) context.traceState = createTraceState(tracestate);
  return context;
}

/** The distinct trace contexts the events carry in their `traceparent` extension, in first-seen order. */
export function eventTraceContexts(events: readonly FlowEvent[]): SpanContext[] {
  const found = new Map<string, SpanContext>();
  for (const event of events) {
    const traceparent = stringExtension(event, "traceparent");
    if (!traceparent || found.has(traceparent)) continue;
    const context = parseTraceparent(traceparent, stringExtension(event, "tracestate"));
    if (context) found.set(traceparent, context);
  }
  return [...found.values()];
}

function stringExtension(event: FlowEvent, name: string): string | undefined {
  const value = event.extensions[name]?.value;
  return value?.$case === "stringValue" ? value.value : undefined;
}
