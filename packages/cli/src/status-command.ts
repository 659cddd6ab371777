import { isRunAbandoned } from "@flow/core";
import type { Command } from "commander";
import { openCommandState } from "./pipeline-state";

/** `flow status [pipeline]`: runs with their per-stage counts, health and the checkpoints. */
export function registerStatusCommand(program: Command): void {
  program
    .command("status")
    .description("Show pipeline runs (status, per-stage counts and rates, health) and checkpoints")
    .argument("[pipeline]", "only this pipeline (its metadata.name)")
    .option("--state <url>", "state store URL (default: the pipeline file's, or sqlite:.flow/state.db)")
    .option("-f, --file <pipeline>", "use the state store this pipeline file names")
    .option("-n, --limit <n>", "how many runs", "10")
    .option("--json", "print JSON")
    .action(
      async (
        name: string | undefined,
        options: { state?: string; file?: string; limit: string; json?: boolean },
      ) => {
        const { store, pipeline } = await openCommandState(options);
        try {
          const filter = name ?? pipeline;
          const runs = await store.listRuns({ pipeline: filter, limit: Number(options.limit) });
          const checkpoints = await store.listCheckpoints(filter);
          if (options.json) {
            console.log(
              JSON.stringify(
                {
                  runs: runs.map((run) => ({ ...run, abandoned: isRunAbandoned(run) })),
                  checkpoints: checkpoints.map((c) => ({
                    ...c,
                    position: Buffer.from(c.position).toString("base64"),
                  })),
                },
                null,
                2,
              ),
            );
            return;
          }
          if (runs.length === 0) console.log(`no runs${filter ? ` of ${filter}` : ""} in ${store.location}`);
          for (const run of runs) {
            const ended = run.endedAt ?? new Date();
            const seconds = Math.max(0.001, (ended.getTime() - run.startedAt.getTime()) / 1000);
            const status =
              run.status === "running" && isRunAbandoned(run) ? "abandoned (process gone)" : run.status;
            console.log(
              `${run.runId}  ${run.pipeline}  ${status}  started ${run.startedAt.toISOString()}  ${seconds.toFixed(1)}s${run.error ? `  error: ${run.error}` : ""}`,
            );
            for (const stage of run.stages) {
              const rate = Math.round(stage.eventsOut / seconds);
              console.log(
                `    ${stage.stageId.padEnd(16)} in ${String(stage.eventsIn).padStart(9)}  out ${String(stage.eventsOut).padStart(9)}  ${String(rate).padStart(7)}/s  dead ${stage.deadLetters}  restarts ${stage.restarts}  errors ${stage.errors}  ${stage.health}`,
              );
            }
          }
          if (checkpoints.length > 0) console.log("checkpoints:");
          for (const checkpoint of checkpoints) {
            console.log(
              `    ${checkpoint.pipeline}/${checkpoint.sourceId}  ${checkpoint.description || "(opaque)"}  committed ${checkpoint.committedAt.toISOString()} by ${checkpoint.runId}`,
            );
          }
        } finally {
          await store.close();
        }
      },
    );
}
