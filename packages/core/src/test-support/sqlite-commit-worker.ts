import { parentPort, workerData } from "node:worker_threads";
import { SqliteStateStore } from "../state/sqlite-state-store";

/** Input of one worker hammering a shared SQLite state file (see sqlite-state-store.spec.ts). */
export interface SqliteCommitWork {
  file: string;
  worker: number;
  commits: number;
  workers: number;
  /** One Int32 counting the workers ready to start, so they all begin together. */
  startLine: SharedArrayBuffer;
  /** The run of pipeline "shared" every worker commits for. */
  sharedRunId: string;
}

export interface SqliteCommitReport {
  committed: number;
  refused: number;
  runId: string;
}

// Every worker commits the same shared source (for the one shared run) with rising sequences, the
// source of a pipeline of its own (its own run), saves stats and registers itself: all the write
// paths, racing the other workers for the file's write lock.
async function main(work: SqliteCommitWork): Promise<SqliteCommitReport> {
  waitForAll(work);
  const store = SqliteStateStore.open(work.file);
  try {
    const pipeline = `worker-${work.worker}`;
    const runId = await store.startRun(pipeline, `${pipeline}.yaml`);
    let committed = 0;
    let refused = 0;
    for (let sequence = 1; sequence <= work.commits; sequence++) {
      const position = Buffer.from(String(sequence));
      const commit = { position, description: `${sequence}`, sequence };
      const shared = await store.commitCheckpoint({
        ...commit,
        pipeline: "shared",
        sourceId: "shared",
        runId: work.sharedRunId,
      });
      if (shared.committed) committed++;
      else refused++;
      await store.commitCheckpoint({ ...commit, pipeline, sourceId: "own", runId });
      if (sequence % 10 === 0) {
        await store.saveStageStats(runId, [
          {
            stageId: "s",
            eventsIn: sequence,
            eventsOut: sequence,
            deadLetters: 0,
            restarts: 0,
            errors: 0,
            health: "serving",
          },
        ]);
        await store.registerService({ name: "w", address: `worker-${work.worker}`, component: { sequence } });
      }
    }
    await store.finishRun(runId, "succeeded");
    return { committed, refused, runId };
  } finally {
    await store.close();
  }
}

/** Starting a worker thread takes far longer than its work, so without this they would run one after another. */
function waitForAll(work: SqliteCommitWork): void {
  const ready = new Int32Array(work.startLine);
  Atomics.add(ready, 0, 1);
  Atomics.notify(ready, 0);
  for (;;) {
    const count = Atomics.load(ready, 0);
    if (count >= work.workers) return;
    Atomics.wait(ready, 0, count, 1000);
  }
}

main(workerData as SqliteCommitWork).then(
  (report) => parentPort?.postMessage(report),
  (error: unknown) => {
    throw error;
  },
);
