import { isRunAbandoned } from "@flow/core";
import type { Command } from "commander";
import { checkpointJson } from "./checkpoint-json";
import { checkPipelineKnown, openExistingState, stateTarget } from "./pipeline-state";

interface StatusOptions {
  state?: string;
  file?: string;
  limit: string;
  json?: boolean;
}

/** `flow status [pipeline]`: runs with their per-stage counts, health, contract major and the checkpoints. */
export function registerStatusCommand(program: Command): void {
  program
    .command("status")
    .description(
      "Show pipeline runs (status, per-stage counts and rates, health, contract major) and checkpoints",
    )
    .argument("[pipeline]", "only this pipeline: its metadata.name, or its file (whose state store is read)")
    .option("--state <url>", "state store URL (default: the pipeline file's, or sqlite:.flow/state.db)")
    .option("-f, --file <pipeline>", "use the state store this pipeline file names")
    .option("-n, --limit <n>", "how many runs", "10")
    .option("--json", "print JSON")
    .action(async (argument: string | undefined, options: StatusOptions) => {
      const target = stateTarget(options, argument);
      const store = await openExistingState(target);
      try {
        await checkPipelineKnown(store, target, "status");
        const filter = target.name;
        const runs = store ? await store.listRuns({ pipeline: filter, limit: Number(options.limit) }) : [];
        const checkpoints = store ? await store.listCheckpoints(filter) : [];
        if (options.json) {
          console.log(
            JSON.stringify(
              {
                store: target.where,
                runs: runs.map((run) => ({ ...run, abandoned: isRunAbandoned(run) })),
                checkpoints: checkpoints.map(checkpointJson),
              },
              null,
              2,
            ),
          );
          return;
        }
        console.log(
          `state store: ${target.where}${store ? "" : " (does not exist yet: nothing has run with it)"}`,
        );
        if (runs.length === 0) console.log(`no runs${filter ? ` of ${filter}` : ""}`);
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
            // The major of its family contract the stage spoke in the run (none for runs before majors).
            const major = stage.contractMajor !== undefined ? `  contract v${stage.contractMajor}` : "";
            console.log(
              `    ${stage.stageId.padEnd(16)} in ${String(stage.eventsIn).padStart(9)}  out ${String(stage.eventsOut).padStart(9)}  ${String(rate).padStart(7)}/s  dead ${stage.deadLetters}  restarts ${stage.restarts}  errors ${stage.errors}  ${stage.health}${major}`,
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
        await store?.close();
      }
    });
}
