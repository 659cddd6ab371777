import { summarizeRuns } from "../run-statistics";
import type { FigureRef, Measurement, Scenario } from "../scenario";
import { type FigureLine, roundFigure } from "./figure-line";

/** What happened to one scenario over the whole invocation. */
export type ScenarioOutcome =
  | { scenario: Scenario; status: "measured"; runs: Measurement[][] }
  | { scenario: Scenario; status: "pending" | "skipped"; reason: string }
  | { scenario: Scenario; status: "failed"; reason: string };

/**
 * Turns per-run measurements into one line per figure: median with min-max, then the ratio to
 * the referenced baseline figure, looked up among the figures of this same invocation only.
 */
export function summarizeOutcomes(outcomes: readonly ScenarioOutcome[]): FigureLine[] {
  const lines: FigureLine[] = [];
  for (const outcome of outcomes) {
    const name = outcome.scenario.name;
    if (outcome.status === "measured") {
      for (const samples of groupByFigure(outcome.runs).values()) {
        const stats = summarizeRuns(samples.map((sample) => sample.value));
        const last = samples[samples.length - 1] as Measurement;
        const line: FigureLine = {
          scenario: name,
          figure: last.figure,
          unit: last.unit,
          median: roundFigure(stats.median),
          min: roundFigure(stats.min),
          max: roundFigure(stats.max),
          runs: stats.runs,
          ratio_vs: last.ratioVs === undefined ? null : refName(last.ratioVs),
          ratio: null,
          status: "measured",
        };
        if (last.detail !== undefined) line.detail = last.detail;
        lines.push(line);
      }
    } else if (outcome.status === "pending") {
      const planned = outcome.scenario.plannedFigures ?? [];
      const figures = planned.length > 0 ? planned : [{ figure: null, unit: null, ratioVs: undefined }];
      for (const plan of figures) {
        lines.push({
          ...emptyLine(name, outcome.status, outcome.reason),
          figure: plan.figure,
          unit: plan.unit,
          ratio_vs: plan.ratioVs === undefined ? null : refName(plan.ratioVs),
        });
      }
    } else {
      lines.push(emptyLine(name, outcome.status, outcome.reason));
    }
  }
  // A ratio compares like with like: the baseline figure of the same name and the same unit.
  const medians = new Map<string, number>();
  for (const line of lines) {
    if (line.median !== null && line.figure !== null) {
      medians.set(unitKey(`${line.scenario}/${line.figure}`, line.unit), line.median);
    }
  }
  for (const line of lines) {
    if (line.ratio_vs === null || line.median === null) continue;
    const baseline = medians.get(unitKey(line.ratio_vs, line.unit));
    if (baseline !== undefined && baseline !== 0) line.ratio = roundRatio(line.median / baseline);
  }
  return lines;
}

/** A figure is its name and its unit: "encode batch=100" exists in events/s and in MB/s. */
function groupByFigure(runs: readonly Measurement[][]): Map<string, Measurement[]> {
  const byFigure = new Map<string, Measurement[]>();
  for (const run of runs) {
    for (const measurement of run) {
      const key = unitKey(measurement.figure, measurement.unit);
      const samples = byFigure.get(key);
      if (samples === undefined) byFigure.set(key, [measurement]);
      else samples.push(measurement);
    }
  }
  return byFigure;
}

function emptyLine(scenario: string, status: FigureLine["status"], reason: string): FigureLine {
  return {
    scenario,
    figure: null,
    unit: null,
    median: null,
    min: null,
    max: null,
    runs: 0,
    ratio_vs: null,
    ratio: null,
    status,
    reason,
  };
}

function unitKey(name: string, unit: string | null): string {
  return `${name}\u0000${unit ?? ""}`;
}

function refName(ref: FigureRef): string {
  return `${ref.scenario}/${ref.figure}`;
}

function roundRatio(ratio: number): number {
  return Math.round(ratio * 1000) / 1000;
}
