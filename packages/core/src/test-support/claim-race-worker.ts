import { parentPort, workerData } from "node:worker_threads";
import { openStateStore } from "../state/open-state-store";
import { RunAlreadyLiveError } from "../state/run-liveness";

/** Input of one worker racing the others to claim pipelines (see state-store.spec.ts). */
export interface ClaimRaceWork {
  url: string;
  baseDir: string;
  workers: number;
  rounds: number;
  /** Pipeline of round r: `${pipelinePrefix}-${r}`. */
  pipelinePrefix: string;
  /**
   * rounds + 1 Int32s counting the workers at each start line, so they all open the store together
   * (the last one) and start each round together.
   */
  startLines: SharedArrayBuffer;
}

/** For each round, the run id this worker claimed, or null when it lost (RunAlreadyLiveError). */
export type ClaimRaceReport = (string | null)[];

// Each worker has its own store (its own SQLite connection, or its own PostgreSQL pool), as each
// `flow run` process would; every round all of them claim one new pipeline at the same moment.
async function main(work: ClaimRaceWork): Promise<ClaimRaceReport> {
  waitForAll(work, work.rounds);
  const store = await openStateStore(work.url, { baseDir: work.baseDir });
  const claims: ClaimRaceReport = [];
  try {
    for (let round = 0; round < work.rounds; round++) {
      waitForAll(work, round);
      try {
        claims.push(await store.startRun(`${work.pipelinePrefix}-${round}`, "race.yaml"));
      } catch (error) {
        if (!(error instanceof RunAlreadyLiveError)) throw error;
        claims.push(null);
      }
    }
    return claims;
  } finally {
    await store.close();
  }
}

function waitForAll(work: ClaimRaceWork, line: number): void {
  const ready = new Int32Array(work.startLines);
  Atomics.add(ready, line, 1);
  Atomics.notify(ready, line);
  for (;;) {
    const count = Atomics.load(ready, line);
    if (count >= work.workers) return;
    Atomics.wait(ready, line, count, 1000);
  }
}

main(workerData as ClaimRaceWork).then(
  (report) => parentPort?.postMessage(report),
  (error: unknown) => {
    throw error;
  },
);
