// Median with min-max rather than mean with deviation: on a shared 2-core machine a run is
// sometimes disturbed by a neighbour, and the median ignores one outlier out of three.

export interface RunStatistics {
  median: number;
  min: number;
  max: number;
  runs: number;
}

export function summarizeRuns(values: readonly number[]): RunStatistics {
  if (values.length === 0) throw new Error("no runs to summarize");
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1
      ? (sorted[middle] as number)
      : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
  return {
    median,
    min: sorted[0] as number,
    max: sorted[sorted.length - 1] as number,
    runs: sorted.length,
  };
}
