import type { HealthStatus } from "@flow/sdk/internal";
import { ClaimLostError, type StateStore } from "../state";
import type { RunStages } from "./run-stages";
import { type StageCounters, setInFlight, storedStageStats } from "./stage-counters";

export interface RunProgressParts {
  stages: RunStages;
  store: Pick<StateStore, "saveStageStats">;
  /** The run's id ("" until the run has claimed its pipeline). */
  runId: () => string;
  /** The counters of every stage, on every stats interval. */
  onProgress: (stages: StageCounters[]) => void;
  /** Another run took the pipeline over (this one looked dead): stop at once, commit nothing more. */
  onClaimLost: (error: ClaimLostError) => void;
}

/**
 * What the outside sees of a run while it goes on: every stage's counters, kept up to date with
 * what the services and links report, and on every stats interval a progress report and a save
 * to the state store (the run's heartbeat too).
 */
export class RunProgress {
  constructor(private readonly parts: RunProgressParts) {}

  /** A stage's service was restarted or reconnected; `count` restarts so far. */
  restarted(stageId: string, count: number): void {
    const record = this.parts.stages.records.get(stageId);
    if (record) record.counters.restarts = count;
  }

  health(stageId: string, status: HealthStatus): void {
    const record = this.parts.stages.records.get(stageId);
    if (record) record.counters.health = status;
  }

  /**
   * One stats interval: the batches in flight on each link are brought up to date, the counters
   * reported and saved. A save that fails otherwise than by a lost claim only loses a snapshot
   * (an outage is waited out by the commits).
   */
  async report(): Promise<void> {
    const { stages, store, runId } = this.parts;
    for (const record of stages.records.values())
      if (record.link) setInFlight(record.counters, record.link.inFlight);
    this.parts.onProgress(stages.counters());
    if (!runId()) return;
    await store.saveStageStats(runId(), storedStageStats(stages.counters())).catch((error) => {
      if (error instanceof ClaimLostError) this.parts.onClaimLost(error);
    });
  }

  /** The run's totals, once it has ended: a store that is away loses them, nothing more. */
  async saveTotals(): Promise<void> {
    const { stages, store, runId } = this.parts;
    await store.saveStageStats(runId(), storedStageStats(stages.counters())).catch(() => undefined);
  }
}
