/** Bounds of an exponential backoff: the first delay and the ceiling (ms). */
export interface BackoffBounds {
  initialDelayMs: number;
  maxDelayMs: number;
}

/**
 * The delay before attempt `attempt` (1 for the first retry): doubling from `initialDelayMs`,
 * never above `maxDelayMs`. Retries, restarts, reconnects, store outages and registry calls all wait this way.
 */
export function backoffDelayMs(attempt: number, bounds: BackoffBounds): number {
  return Math.min(bounds.initialDelayMs * 2 ** Math.max(0, attempt - 1), bounds.maxDelayMs);
}
