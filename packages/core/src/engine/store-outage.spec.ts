import { UserError } from "@flow/errors";
import pino from "pino";
import { StoreUnavailableError } from "../state/store-errors";
import { StoreOutage } from "./store-outage";

const unavailable = () =>
  new StoreUnavailableError("postgres://db/flow", "connection refused (ECONNREFUSED)", null);

function outage(limitMs: number, now: () => number = Date.now, onRecovered?: () => void) {
  return new StoreOutage({
    location: "postgres://db/flow",
    limitMs,
    logger: pino({ level: "silent" }),
    now,
    onRecovered,
  });
}

describe("StoreOutage", () => {
  it("retries a call while the store is unreachable, is down meanwhile, and recovers when it answers", async () => {
    const watch = outage(60_000, Date.now, () => recovered.push(watch.down));
    const recovered: boolean[] = [];
    const downDuring: boolean[] = [];
    let calls = 0;
    const result = await watch.retry("commit", async () => {
      calls += 1;
      downDuring.push(watch.down);
      if (calls < 3) throw unavailable();
      return "committed";
    });
    expect(result).toBe("committed");
    expect(calls).toBe(3);
    expect(downDuring).toEqual([false, true, true]);
    expect(watch.down).toBe(false);
    expect(recovered).toEqual([false]);
  });

  it("passes any other error on at once, without retrying", async () => {
    const watch = outage(60_000);
    let calls = 0;
    await expect(
      watch.retry("commit", async () => {
        calls += 1;
        throw new Error("disk full");
      }),
    ).rejects.toThrow("disk full");
    expect(calls).toBe(1);
    expect(watch.down).toBe(false);
  });

  it("gives up past the limit with a UserError naming the store, the time and that the run is resumable", async () => {
    let clock = 0;
    const watch = outage(1000, () => clock);
    const failure = watch.retry("commit", async () => {
      clock += 600;
      throw unavailable();
    });
    const error = await failure.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toMatch(
      /state store postgres:\/\/db\/flow has been unreachable for 1 s \(limit 1000 ms\)/,
    );
    expect((error as UserError).hint).toMatch(/resumable/);
    expect((error as UserError).exitCode).toBe(1);
  });

  it("cancel ends every wait at once with the store's error", async () => {
    const watch = outage(60_000);
    let calls = 0;
    const waiting = watch.retry("commit", async () => {
      calls += 1;
      throw unavailable();
    });
    while (calls === 0) await new Promise((resolve) => setImmediate(resolve));
    watch.cancel();
    await expect(waiting).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(calls).toBe(1);
  });
});
