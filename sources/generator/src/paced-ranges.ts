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
  /** Where time comes from (the real clock unless a test steps through it). */
  clock?: PacingClock;
}

/** Milliseconds now, and a wait until then: what pacing needs of time. */
export interface PacingClock {
  now(): number;
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

const REAL_CLOCK: PacingClock = {
  now: () => performance.now(),
  sleep: (ms, signal) => sleep(ms, undefined, { signal }),
};

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
  const clock = options.clock ?? REAL_CLOCK;
  let next = options.first;
  let start = clock.now();
  let emitted = 0;
  try {
    while (!signal.aborted && (last === undefined || next <= last)) {
      const remaining = last === undefined ? maxBatchSize : Number(last - next + 1n);
      let size = Math.min(maxBatchSize, remaining);
      if (interval > 0) {
        let firstDue = start + emitted * interval;
        const late = clock.now() - firstDue;
        if (late > MAX_BACKLOG_MS) {
          start += late - MAX_BACKLOG_MS;
          firstDue = start + emitted * interval;
        }
        await sleepUntil(clock, firstDue, signal);
        const closesAt = Math.max(clock.now(), firstDue) + options.lingerMs;
        const dueByClose = Math.floor((closesAt - start) / interval) - emitted + 1;
        size = Math.max(1, Math.min(size, dueByClose));
        await sleepUntil(clock, start + (emitted + size - 1) * interval, signal);
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

async function sleepUntil(clock: PacingClock, at: number, signal: AbortSignal): Promise<void> {
  const wait = at - clock.now();
  if (wait > 0) await clock.sleep(wait, signal);
}
