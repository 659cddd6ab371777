// Rate of a synchronous operation: warm up first so the figure is the optimized code's speed,
// then repeat until a minimum time has passed so timer resolution and one GC pause are amortized.

export interface OperationRate {
  operationsPerSecond: number;
  operations: number;
}

/** Keeps results reachable so the optimizer cannot drop the work being measured. */
let blackHole: unknown;

export function measureOperationRate(operation: () => unknown, minDurationMs: number): OperationRate {
  runFor(operation, Math.max(5, minDurationMs / 4));
  const { operations, elapsedNs } = runFor(operation, minDurationMs);
  return { operationsPerSecond: operations / (elapsedNs / 1e9), operations };
}

function runFor(operation: () => unknown, durationMs: number): { operations: number; elapsedNs: number } {
  const budget = BigInt(Math.round(durationMs * 1e6));
  const started = process.hrtime.bigint();
  let operations = 0;
  let elapsed = 0n;
  while (elapsed < budget) {
    // Check the clock every few operations only: hrtime itself costs about as much as a tiny op.
    for (let repeat = 0; repeat < 4; repeat++) blackHole = operation();
    operations += 4;
    elapsed = process.hrtime.bigint() - started;
  }
  return { operations, elapsedNs: Number(elapsed) };
}

export function lastResult(): unknown {
  return blackHole;
}
