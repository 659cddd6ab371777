import { pacedRanges, type SequenceRange } from "./paced-ranges";

async function collect(
  iterable: AsyncIterable<SequenceRange>,
  limit = Number.POSITIVE_INFINITY,
): Promise<SequenceRange[]> {
  const out: SequenceRange[] = [];
  for await (const range of iterable) {
    out.push(range);
    if (out.length >= limit) break;
  }
  return out;
}

describe("pacedRanges", () => {
  it("cuts [first, last] into batches of maxBatchSize without pacing when the rate is 0", async () => {
    const ranges = await collect(
      pacedRanges({
        first: 3n,
        last: 10n,
        rate: 0,
        maxBatchSize: 3,
        lingerMs: 0,
        signal: new AbortController().signal,
      }),
    );
    expect(ranges).toEqual([
      { from: 3n, to: 6n },
      { from: 6n, to: 9n },
      { from: 9n, to: 11n },
    ]);
  });

  it("has no end without a last sequence", async () => {
    const ranges = await collect(
      pacedRanges({
        first: 1n,
        last: undefined,
        rate: 0,
        maxBatchSize: 1000,
        lingerMs: 0,
        signal: new AbortController().signal,
      }),
      50,
    );
    expect(ranges.at(-1)).toEqual({ from: 49001n, to: 50001n });
  });

  it("takes as long as the rate demands", async () => {
    const began = performance.now();
    const ranges = await collect(
      pacedRanges({
        first: 1n,
        last: 21n,
        rate: 400,
        maxBatchSize: 5,
        lingerMs: 0,
        signal: new AbortController().signal,
      }),
    );
    // 20 intervals of 2.5 ms after the first event.
    expect(performance.now() - began).toBeGreaterThanOrEqual(45);
    expect(ranges.at(-1)?.to).toBe(22n);
  });

  it("ends quietly when aborted while waiting for the next event", async () => {
    const abort = new AbortController();
    const ranges: SequenceRange[] = [];
    for await (const range of pacedRanges({
      first: 1n,
      last: undefined,
      rate: 1,
      maxBatchSize: 10,
      lingerMs: 0,
      signal: abort.signal,
    })) {
      ranges.push(range);
      abort.abort();
    }
    expect(ranges).toEqual([{ from: 1n, to: 2n }]);
  });
});
