import type { FigureRef, Measurement } from "../scenario";
import type { FigureLine } from "./figure-line";

// CPU seconds per million events, per process and in total, as figures of their own: the harness
// takes their median over the runs like any other figure, and a total can carry a ratio to
// another pipeline's total. A process's figure is named "<figure>: <process>" (e.g.
// "batch=100: core"), the total "<figure>".

export const CPU_UNIT = "CPU s/1M events";

const PART_SEPARATOR = ": ";

/**
 * The figures of one run: `cpuSeconds` is what each process used while `events` went through
 * (the timed window), scaled to one million events.
 */
export function cpuMeasurements(
  figure: string,
  cpuSeconds: Readonly<Record<string, number>>,
  events: number,
  ratioVs?: FigureRef,
): Measurement[] {
  const perMillion = (seconds: number) => (seconds * 1_000_000) / events;
  const entries = Object.entries(cpuSeconds);
  const total = entries.reduce((sum, [, seconds]) => sum + seconds, 0);
  return [
    { figure, unit: CPU_UNIT, value: perMillion(total), ...(ratioVs ? { ratioVs } : {}) },
    ...entries.map(([process, seconds]) => ({
      figure: `${figure}${PART_SEPARATOR}${process}`,
      unit: CPU_UNIT,
      value: perMillion(seconds),
    })),
  ];
}

/** A per-process CPU figure (the total is not one). */
export function isCpuPart(line: FigureLine): boolean {
  return line.unit === CPU_UNIT && line.figure?.includes(PART_SEPARATOR) === true;
}

export interface CpuSummary {
  total: FigureLine;
  /** Each process's median, in the order the scenario named them. */
  processes: { process: string; median: number | null }[];
}

/** Each CPU total with the medians of its processes beside it. */
export function cpuSummaries(lines: readonly FigureLine[]): CpuSummary[] {
  const totals = lines.filter((line) => line.unit === CPU_UNIT && !isCpuPart(line) && line.median !== null);
  return totals.map((total) => {
    const prefix = `${total.figure}${PART_SEPARATOR}`;
    const processes = lines
      .filter(
        (line) => line.scenario === total.scenario && isCpuPart(line) && line.figure?.startsWith(prefix),
      )
      .map((line) => ({ process: (line.figure as string).slice(prefix.length), median: line.median }));
    return { total, processes };
  });
}
