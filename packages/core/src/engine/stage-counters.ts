import type { FamilyName, HealthStatus } from "@flow/sdk/internal";
import type { StageStats } from "../state";

/** What one stage has done so far in a run; the runner updates it, displays and metrics read it. */
export interface StageCounters {
  stageId: string;
  family: FamilyName;
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
  /** The major of its family contract the stage's stream speaks (negotiated); absent before its stream exists. */
  contractMajor?: number;
}

/** Records the batches in flight now, keeping the peak. */
export function setInFlight(counters: StageCounters, inFlight: number): void {
  counters.inFlight = inFlight;
  if (inFlight > counters.peakInFlight) counters.peakInFlight = inFlight;
}

export function newCounters(stageId: string, family: FamilyName): StageCounters {
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

/** The counters as the state store keeps them (run history, `flow status`). */
export function storedStageStats(stages: readonly StageCounters[]): StageStats[] {
  return stages.map((c) => ({
    stageId: c.stageId,
    eventsIn: c.eventsIn,
    eventsOut: c.eventsOut,
    deadLetters: c.deadLetters,
    restarts: c.restarts,
    errors: c.errors,
    health: c.health === "serving" || c.health === "not_serving" ? c.health : "unknown",
    ...(c.contractMajor !== undefined ? { contractMajor: c.contractMajor } : {}),
  }));
}
