// The JSON line printed per figure. Every line has the same keys whatever its status, so a reader
// (CI, a notebook, a diff between two runs) parses all lines alike; `status` says whether the
// numbers are real.

export type FigureStatus = "measured" | "pending" | "skipped" | "failed";

export interface FigureLine {
  scenario: string;
  figure: string | null;
  unit: string | null;
  median: number | null;
  min: number | null;
  max: number | null;
  runs: number;
  /** "scenario/figure" of the baseline measured in the same invocation, or null. */
  ratio_vs: string | null;
  /** median / baseline median; null without a baseline or when either side has no number. */
  ratio: number | null;
  status: FigureStatus;
  /** Why a figure is pending, skipped or failed. */
  reason?: string;
  /** What the number means beyond itself, e.g. which packages rebuilt. */
  detail?: string;
}

export const FIGURE_LINE_KEYS = [
  "scenario",
  "figure",
  "unit",
  "median",
  "min",
  "max",
  "runs",
  "ratio_vs",
  "ratio",
  "status",
] as const;

/** Six significant digits: more would be noise on this hardware, fewer would hide small ratios. */
export function roundFigure(value: number): number {
  return Number(value.toPrecision(6));
}
