import { LatencyRecorder } from "./latency-recorder";

describe("LatencyRecorder", () => {
  it("gives nearest-rank percentiles over many samples", () => {
    const recorder = new LatencyRecorder();
    for (let i = 1000; i >= 1; i -= 1) recorder.add(i);
    expect(recorder.count).toBe(1000);
    expect(recorder.percentiles([50, 99, 99.9, 100])).toEqual([500, 990, 999, 1000]);
  });

  it("answers NaN when empty", () => {
    expect(new LatencyRecorder().percentiles([50])).toEqual([Number.NaN]);
  });
});
