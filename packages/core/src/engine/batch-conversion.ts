import type { FlowEvent } from "@flow/sdk";
import { convertEventBatch, type EventMajor } from "@flow/sdk/internal";
import type { RawBatch } from "./raw-batch";
import { assertHoldsEvents } from "./reference-batch";

/** A batch in another major's encoding, with the events that cannot convert set apart. */
export interface ConvertedRawBatch {
  /** The events that convert, in their order, encoded in the target major. */
  batch: RawBatch;
  /** The events the target major cannot carry: as much of each as fits, and why (they become dead letters). */
  refused: { event: FlowEvent; reason: string }[];
}

const NOTHING_REFUSED: readonly ConvertedRawBatch["refused"][number][] = Object.freeze([]);

/**
 * The batch encoded in `major`: the batch itself (the same object, its bytes untouched) when it is
 * of that major already, else converted by the SDK's rules (event v1 -> v2 is total; v2 -> v1
 * refuses, with the reason, what v1 has no room for). Throws when the bytes are not a batch of
 * their major.
 */
export function convertRawBatch(batch: RawBatch, major: EventMajor): ConvertedRawBatch {
  if (batch.major === major) return { batch, refused: NOTHING_REFUSED as ConvertedRawBatch["refused"] };
  assertHoldsEvents(batch, "convert");
  const converted = convertEventBatch(batch.bytes, batch.major, major);
  return {
    batch: { bytes: converted.bytes, count: converted.count, major },
    refused: converted.refused.map(({ event, reason }) => ({ event, reason })),
  };
}
