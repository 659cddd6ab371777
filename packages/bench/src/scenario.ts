// What a benchmark scenario is to the harness. The harness owns repetition, statistics, ratios and
// printing; a scenario only measures once per call, so every scenario gets the same treatment of
// noise (median of N runs with min-max) without re-implementing it.

/** One number produced by one run of a scenario. */
export interface Measurement {
  /** Stable name of the figure within its scenario, e.g. "batch=100". */
  figure: string;
  /** Unit of `value`, e.g. "events/s", "MB/s", "s". */
  unit: string;
  value: number;
  /** The figure this one is compared with, measured in the same invocation. */
  ratioVs?: FigureRef;
  /** Free text that explains the figure, e.g. which packages rebuilt. Kept from the last run. */
  detail?: string;
}

export interface FigureRef {
  scenario: string;
  figure: string;
}

/** A figure a pending scenario will produce once it can run; printed so the slot is visible. */
export interface PlannedFigure {
  figure: string;
  unit: string;
  ratioVs?: FigureRef;
}

export interface ScenarioContext {
  quick: boolean;
  /** 0-based index of the current run. */
  runIndex: number;
  runs: number;
  /** Overrides the event count of pipeline scenarios (--events). */
  events?: number;
  /** Overrides the batch sizes of pipeline scenarios (--batch-sizes). */
  batchSizes?: number[];
  /** Repository the build scenario clones (--repo); defaults to the one the bench package lives in. */
  repo?: string;
  /** Progress for humans; goes to stderr so stdout stays a clean report. */
  log(message: string): void;
}

export interface Scenario {
  name: string;
  /** One line: what the scenario measures. */
  description: string;
  /**
   * Scenarios whose figures this one's ratios refer to. `--only` pulls them in, so a ratio is
   * always against a baseline measured in the same invocation.
   */
  baselines?: string[];
  /** Too slow or too environment-dependent for the CI smoke test. */
  skipInQuick?: boolean;
  /** Set when the scenario cannot run yet; the harness prints the reason instead of numbers. */
  pending?: string;
  plannedFigures?: PlannedFigure[];
  /** One run. Absent only for pending scenarios. */
  measure?(context: ScenarioContext): Promise<Measurement[]>;
}
