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

  it("hands each batch out when its events are due at the rate, grouping what is due within lingerMs", async () => {
    // A clock that only moves when pacing waits: the schedule is exact, whatever the machine's load.
    let now = 0;
    const handedOutAt: number[] = [];
    const clock = {
      now: () => now,
      sleep: async (ms: number) => {
        now += ms;
      },
    };
    const ranges: SequenceRange[] = [];
    for await (const range of pacedRanges({
      first: 1n,
      last: 21n,
      rate: 400,
      maxBatchSize: 100,
      lingerMs: 10,
      signal: new AbortController().signal,
      clock,
    })) {
      ranges.push(range);
      handedOutAt.push(now);
    }
    // 400 events/s: one every 2.5 ms; a batch waits 10 ms past its first event, so it holds 5.
    expect(ranges.map((range) => Number(range.to - range.from))).toEqual([5, 5, 5, 5, 1]);
    // Each batch goes when its last event is due: events 5, 10, 15, 20 and 21, at 2.5 ms apart.
    expect(handedOutAt).toEqual([10, 22.5, 35, 47.5, 50]);
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
