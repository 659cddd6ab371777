import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";

/** Sequence numbers [from, to) that make one batch. */
export interface SequenceRange {
  from: bigint;
  to: bigint;
}

export interface PacingOptions {
  /** The first sequence to hand out. */
  first: bigint;
  /** The last sequence (inclusive); undefined means no end. */
  last: bigint | undefined;
  /** Events per second; 0 means no pacing. */
  rate: number;
  maxBatchSize: number;
  /** How long a batch may wait for events that are not due yet, in milliseconds. */
  lingerMs: number;
  signal: AbortSignal;
}

/**
 * A late pipeline (no credits for a while) is owed events. Owing more than this is forgotten, so a
 * stall is followed by at most one second's burst rather than a flood that defeats `rate`.
 */
const MAX_BACKLOG_MS = 1000;

/**
 * Cuts the sequence space into batches, paced at `rate` events per second: a batch starts when its
 * first event is due and takes every event due within `lingerMs` after that, up to
 * `maxBatchSize`. Ends quietly when the signal aborts.
 */
export async function* pacedRanges(options: PacingOptions): AsyncGenerator<SequenceRange> {
  const { last, rate, signal } = options;
  const maxBatchSize = Math.max(1, options.maxBatchSize);
  const interval = rate > 0 ? 1000 / rate : 0;
  let next = options.first;
  let start = performance.now();
  let emitted = 0;
  try {
    while (!signal.aborted && (last === undefined || next <= last)) {
      const remaining = last === undefined ? maxBatchSize : Number(last - next + 1n);
      let size = Math.min(maxBatchSize, remaining);
      if (interval > 0) {
        let firstDue = start + emitted * interval;
        const late = performance.now() - firstDue;
        if (late > MAX_BACKLOG_MS) {
          start += late - MAX_BACKLOG_MS;
          firstDue = start + emitted * interval;
        }
        await sleepUntil(firstDue, signal);
        const closesAt = Math.max(performance.now(), firstDue) + options.lingerMs;
        const dueByClose = Math.floor((closesAt - start) / interval) - emitted + 1;
        size = Math.max(1, Math.min(size, dueByClose));
        await sleepUntil(start + (emitted + size - 1) * interval, signal);
      }
      const to = next + BigInt(size);
      yield { from: next, to };
      next = to;
      emitted += size;
    }
  } catch (error) {
    if (!signal.aborted) throw error;
  }
}

async function sleepUntil(at: number, signal: AbortSignal): Promise<void> {
  const wait = at - performance.now();
  if (wait > 0) await sleep(wait, undefined, { signal });
}
