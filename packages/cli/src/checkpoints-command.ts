import { FLOW_CLI, liveRunError, liveRunsOf } from "@flow/core";
import { UserError } from "@flow/errors";
import type { Command } from "commander";
import { checkpointJson } from "./checkpoint-json";
import { checkPipelineKnown, openExistingState, type StateOptions, stateTarget } from "./pipeline-state";

/** `flow checkpoints list|reset`: see and rewind sources' committed positions. */
export function registerCheckpointsCommand(program: Command): void {
  const checkpoints = program
    .command("checkpoints")
    .description("List or reset sources' committed checkpoints");
  const stateOptions = (command: Command) =>
    command
      .option("--state <url>", "state store URL (default: the pipeline file's, or sqlite:.flow/state.db)")
      .option("-f, --file <pipeline>", "use the state store this pipeline file names");

  stateOptions(
    checkpoints
      .command("list")
      .description("List committed checkpoints")
      .argument(
        "[pipeline]",
        "only this pipeline: its metadata.name, or its file (whose state store is read)",
      )
      .option("--json", "print JSON"),
  ).action(async (argument: string | undefined, options: StateOptions & { json?: boolean }) => {
    const target = stateTarget(options, argument);
    const store = await openExistingState(target);
    try {
      await checkPipelineKnown(store, target, "checkpoints list");
      const list = store ? await store.listCheckpoints(target.name) : [];
      if (options.json) {
        console.log(JSON.stringify(list.map(checkpointJson), null, 2));
        return;
      }
      if (list.length === 0) {
        console.log(
          `no checkpoints${target.name ? ` of ${target.name}` : ""} in ${target.where}${store ? "" : " (does not exist yet: nothing has run with it)"}`,
        );
      } else console.log(`checkpoints in ${target.where}:`);
      for (const c of list)
        console.log(
          `${c.pipeline}/${c.sourceId}  ${c.description || "(opaque)"}  committed ${c.committedAt.toISOString()} by run ${c.runId}`,
        );
    } finally {
      await store?.close();
    }
  });

  stateOptions(
    checkpoints
      .command("reset")
      .description("Forget a source's checkpoint (or all of a pipeline's): the next run reads from the start")
      .argument("[pipeline]", "the pipeline: its metadata.name, or its file; default: the one -f names")
      .argument("[source]", "only this source stage"),
  ).action(async (argument: string | undefined, source: string | undefined, options: StateOptions) => {
    const target = stateTarget(options, argument);
    const name = target.name;
    if (!name)
      throw new UserError("name the pipeline", {
        hint: `${FLOW_CLI} checkpoints reset <pipeline.yaml | pipeline name> [source]`,
      });
    const store = await openExistingState(target);
    try {
      await checkPipelineKnown(store, target, "checkpoints reset");
      // A live run would commit its next checkpoint over the reset, or resume from it mid-way.
      const [live] = store ? await liveRunsOf(store, name) : [];
      if (live) throw liveRunError(live, `reset the checkpoints of ${name}`);
      const removed = store ? await store.resetCheckpoints(name, source) : 0;
      console.log(
        `reset ${removed} checkpoint(s) of ${name}${source ? `/${source}` : ""} in ${target.where}`,
      );
    } finally {
      await store?.close();
    }
  });
}
