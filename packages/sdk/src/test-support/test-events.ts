import { createEvent, type FlowEvent } from "../flow-event";

/** A small JSON event numbered `n`, the way a test source would emit it. */
export function testEvent(n: number, extra: Record<string, unknown> = {}): FlowEvent {
  return createEvent({
    id: `event-${n}`,
    source: "/tests/sdk",
    type: "com.example.test",
    time: { seconds: 1_700_000_000n + BigInt(n), nanos: n },
    data: { n, ...extra },
  });
}

export function testEvents(from: number, count: number): FlowEvent[] {
  return Array.from({ length: count }, (_, i) => testEvent(from + i));
}

/** The `n` each event carries in its JSON payload. */
export function payloadNumbers(events: readonly FlowEvent[]): number[] {
  return events.map((event) => (JSON.parse(event.data.toString("utf8")) as { n: number }).n);
}
