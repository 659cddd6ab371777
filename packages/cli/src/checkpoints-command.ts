import { liveRunError, liveRunsOf } from "@flow/core";
import { UserError } from "@flow/errors";
import type { Command } from "commander";
import { openCommandState } from "./pipeline-state";

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
      .argument("[pipeline]")
      .option("--json", "print JSON"),
  ).action(async (name: string | undefined, options: { state?: string; file?: string; json?: boolean }) => {
    const { store, pipeline } = await openCommandState(options);
    try {
      const list = await store.listCheckpoints(name ?? pipeline);
      if (options.json) {
        console.log(
          JSON.stringify(
            list.map((c) => ({ ...c, position: Buffer.from(c.position).toString("base64") })),
            null,
            2,
          ),
        );
        return;
      }
      if (list.length === 0) console.log(`no checkpoints in ${store.location}`);
      for (const c of list)
        console.log(
          `${c.pipeline}/${c.sourceId}  ${c.description || "(opaque)"}  committed ${c.committedAt.toISOString()} by run ${c.runId}`,
        );
    } finally {
      await store.close();
    }
  });

  stateOptions(
    checkpoints
      .command("reset")
      .description("Forget a source's checkpoint (or all of a pipeline's): the next run reads from the start")
      .argument("[pipeline]", "the pipeline (metadata.name); default: the one -f names")
      .argument("[source]", "only this source stage"),
  ).action(
    async (
      name: string | undefined,
      source: string | undefined,
      options: { state?: string; file?: string },
    ) => {
      const { store, pipeline } = await openCommandState(options);
      try {
        const target = name ?? pipeline;
        if (!target) throw new UserError("name the pipeline: flow checkpoints reset <pipeline> [source]");
        // A live run would commit its next checkpoint over the reset, or resume from it mid-way.
        const [live] = await liveRunsOf(store, target);
        if (live) throw liveRunError(live, `reset the checkpoints of ${target}`);
        const removed = await store.resetCheckpoints(target, source);
        console.log(`reset ${removed} checkpoint(s) of ${target}${source ? `/${source}` : ""}`);
      } finally {
        await store.close();
      }
    },
  );
}
