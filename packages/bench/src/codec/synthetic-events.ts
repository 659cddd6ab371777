import { Event, EventBatch } from "../gen/event/v1/event";

// The events every scenario moves: realistic CloudEvents attributes and a fixed-size payload, so
// codec figures and pipeline figures describe the same bytes.

export const PAYLOAD_BYTES = 200;

/** A payload with varied bytes (not zeros) so nothing downstream can cheat by compressing it. */
export function syntheticPayload(bytes: number = PAYLOAD_BYTES): Buffer {
  const payload = Buffer.allocUnsafe(bytes);
  for (let index = 0; index < bytes; index++) payload[index] = (index * 31 + 7) & 0xff;
  return payload;
}

/** Events `firstIndex .. firstIndex + count - 1`; ids are unique across a run. */
export function syntheticBatch(
  firstIndex: number,
  count: number,
  payload: Buffer,
  nowMs = Date.now(),
): EventBatch {
  const time = { seconds: BigInt(Math.floor(nowMs / 1000)), nanos: (nowMs % 1000) * 1_000_000 };
  const events: Event[] = new Array(count);
  for (let offset = 0; offset < count; offset++) {
    // fromPartial: every other field, including any a newer minor of event adds, gets its default.
    events[offset] = Event.fromPartial({
      id: `evt-${firstIndex + offset}`,
      source: "/flow/bench/generator",
      specversion: "1.0",
      type: "dev.flow.bench.synthetic",
      time,
      datacontenttype: "application/octet-stream",
      data: payload,
    });
  }
  return { ...EventBatch.create(), events };
}
