import {
  loadPipeline,
  openStateStore,
  PipelineRunner,
  type RunResult,
  type StageCounters,
  type StoredCheckpoint,
} from "@flow/core";
import pino from "pino";

/**
 * Runs a pipeline file with Core in this process (the services are still their own processes),
 * calling `onProgress` with every stage's counters every `statsIntervalMs`: for tests that watch
 * Core while it works. Resolves with the result and the checkpoints committed.
 */
export async function runInProcess(
  file: string,
  onProgress: (stages: StageCounters[]) => void,
  statsIntervalMs = 50,
): Promise<{ result: RunResult; checkpoints: StoredCheckpoint[] }> {
  const pipeline = loadPipeline(file);
  const store = await openStateStore(pipeline.state.url, { baseDir: pipeline.baseDir });
  try {
    const runner = new PipelineRunner({
      plan: pipeline,
      store,
      logger: pino({ level: "silent" }),
      statsIntervalMs,
    });
    runner.on("progress", onProgress);
    const result = await runner.run();
    return { result, checkpoints: await store.listCheckpoints(pipeline.name) };
  } finally {
    await store.close();
  }
}
