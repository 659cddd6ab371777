import type { Clock } from "../state/state-store";

/** A clock that moves only when a test says so, so expiry and staleness are tested without sleeping. */
export interface ManualClock {
  now: Clock;
  advance(ms: number): void;
}

export function manualClock(start: Date = new Date("2026-01-01T00:00:00.000Z")): ManualClock {
  let current = start.getTime();
  return {
    now: () => new Date(current),
    advance: (ms) => {
      current += ms;
    },
  };
}
