/**
 * Collects latencies (milliseconds) and reports percentiles. Samples go into a growing
 * Float64Array, not an array of numbers, so a million samples cost 8 MB and no GC churn.
 */
export class LatencyRecorder {
  private samples = new Float64Array(1 << 16);
  private size = 0;

  add(ms: number): void {
    if (this.size === this.samples.length) {
      const grown = new Float64Array(this.samples.length * 2);
      grown.set(this.samples);
      this.samples = grown;
    }
    this.samples[this.size++] = ms;
  }

  get count(): number {
    return this.size;
  }

  /** Nearest-rank percentiles, e.g. percentiles([50, 99, 99.9]). */
  percentiles(ranks: readonly number[]): number[] {
    const sorted = this.samples.slice(0, this.size).sort();
    return ranks.map((rank) => {
      if (sorted.length === 0) return Number.NaN;
      // The small epsilon keeps 99.9% of 1000 at rank 999 despite floating point (999.0000000000001).
      const index = Math.min(
        sorted.length - 1,
        Math.max(0, Math.ceil((rank / 100) * sorted.length - 1e-9) - 1),
      );
      return sorted[index] as number;
    });
  }
}
