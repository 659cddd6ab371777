import type { PeerRef } from "../gen/peer/v1/peer";
import type { RawBatch } from "./raw-batch";

/** The event major the direct data path carries: only family contract v2 has it (peer/v1). */
export const DIRECT_PATH_MAJOR = 2;

/**
 * A batch Core knows only by reference (the direct data path): `count` events of `size` bytes an
 * upstream pushed to the stages downstream under `ref`, with no bytes. Core passes it on as it is -
 * never reads, cuts, merges nor converts it (every edge it crosses is direct: of one major, and the
 * upstream kept within the downstream's limits) - and the stage it reaches takes the events from
 * what it was pushed.
 */
export function referenceBatch(ref: PeerRef, count: number, size: number): RawBatch {
  return { bytes: new Uint8Array(0), count, major: DIRECT_PATH_MAJOR, ref, size };
}

/**
 * Throws, naming the reference, for a batch whose events Core does not hold: every path that reads
 * or rebuilds a batch's events calls it, so a reference reaching one is a bug that shows at once
 * instead of passing on an empty batch as if its events were none.
 */
export function assertHoldsEvents(batch: RawBatch, purpose: string): void {
  if (batch.ref === undefined) return;
  throw new Error(
    `Core cannot ${purpose} a batch it knows only by reference (${describeRef(batch.ref)}, ${batch.count} events on the direct data path): this is a bug in Flow Core`,
  );
}

/** "stream <id> handle <n>": a reference, for messages. */
export function describeRef(ref: PeerRef): string {
  return `stream ${ref.stream} handle ${ref.handle}`;
}
