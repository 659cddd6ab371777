import { SourceLedger } from "./source-ledger";

const cp = (n: number) => ({ position: Buffer.from(String(n)), description: `at ${n}` });

describe("SourceLedger", () => {
  it("commits only through the longest prefix of closed batches", () => {
    const ledger = new SourceLedger();
    ledger.opened(1n, cp(1), 10);
    ledger.opened(2n, cp(2), 10);
    ledger.opened(3n, cp(3), 10);
    ledger.close(2n);
    expect(ledger.takeCommittable()).toBeUndefined();
    ledger.close(1n);
    expect(ledger.takeCommittable()).toEqual({ sequence: 2n, checkpoint: cp(2) });
    expect(ledger.takeCommittable()).toBeUndefined();
    expect(ledger.inFlight).toBe(1);
    ledger.close(3n);
    expect(ledger.takeCommittable()?.sequence).toBe(3n);
    expect(ledger.inFlight).toBe(0);
  });

  it("waits for every branch of a fan-out", () => {
    const ledger = new SourceLedger();
    ledger.opened(1n, cp(1), 5);
    ledger.split(1n, 2);
    ledger.close(1n);
    expect(ledger.takeCommittable()).toBeUndefined();
    ledger.close(1n);
    expect(ledger.takeCommittable()?.sequence).toBe(1n);
  });

  it("treats a batch filtered to nothing as closed", () => {
    const ledger = new SourceLedger();
    ledger.opened(1n, cp(1), 5);
    ledger.split(1n, 0);
    expect(ledger.takeCommittable()?.checkpoint).toEqual(cp(1));
  });

  it("rejects gaps and double acknowledgements", () => {
    const ledger = new SourceLedger();
    ledger.opened(1n, cp(1), 1);
    expect(() => ledger.opened(3n, cp(3), 1)).toThrow(/no gaps/);
    ledger.close(1n);
    expect(() => ledger.close(1n)).toThrow(/not open/);
  });

  it("counts events in flight", () => {
    const ledger = new SourceLedger();
    ledger.opened(1n, cp(1), 7);
    ledger.opened(2n, cp(2), 3);
    expect(ledger.inFlightEvents).toBe(10);
  });
});
