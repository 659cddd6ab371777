import type { HealthStatus } from "@flow/sdk";
import type { Family } from "../clients/service-clients";

/** What one stage has done so far in a run; the runner updates it, displays and metrics read it. */
export interface StageCounters {
  stageId: string;
  family: Family;
  eventsIn: number;
  eventsOut: number;
  batchesIn: number;
  deadLetters: number;
  restarts: number;
  errors: number;
  /** Batches sent to the stage and not yet answered (for a source: not yet acknowledged downstream). */
  inFlight: number;
  /** The most batches that were ever in flight at once (backpressure at work: at most the credits). */
  peakInFlight: number;
  health: HealthStatus;
}

/** Records the batches in flight now, keeping the peak. */
export function setInFlight(counters: StageCounters, inFlight: number): void {
  counters.inFlight = inFlight;
  if (inFlight > counters.peakInFlight) counters.peakInFlight = inFlight;
}

export function newCounters(stageId: string, family: Family): StageCounters {
  return {
    stageId,
    family,
    eventsIn: 0,
    eventsOut: 0,
    batchesIn: 0,
    deadLetters: 0,
    restarts: 0,
    errors: 0,
    inFlight: 0,
    peakInFlight: 0,
    health: "unknown",
  };
}
