import { resolve } from "node:path";
import type { Command } from "commander";
import { loadPipeline, openStateStore, PipelineRunner, stageConfigError } from "@flow/core";
import { UserErrors } from "@flow/errors";
import pino from "pino";
import { EXIT } from "./exit-codes";

/** `flow validate <pipeline.yaml>`: the file, negotiation and every config in validate-only mode; no data moves. */
export function registerValidateCommand(program: Command): void {
  program
    .command("validate")
    .description("Check a pipeline without moving data: the file, each service's contract and event types, every config (validate-only)")
    .argument("<pipeline>", "the pipeline file")
    .option("--offline", "check the file only; start and ask no service")
    .action(async (file: string, options: { offline?: boolean }) => {
      const pipeline = loadPipeline(resolve(file));
      for (const warning of pipeline.warnings) console.error(`warning: ${warning.message}`);
      if (!options.offline) {
        const logger = pino({ level: "warn" }, pino.destination(2));
        const store = await openStateStore(pipeline.state.url, { baseDir: pipeline.baseDir });
        const runner = new PipelineRunner({
          plan: pipeline,
          store,
          logger,
          describeIssue: (issue) => stageConfigError(pipeline, issue.stageId, issue.pointer ?? "", issue.message),
        });
        try {
          await runner.startServices();
          const issues = await runner.negotiate();
          for (const issue of issues) {
            console.error(`warning: ${stageConfigError(pipeline, issue.stageId, issue.pointer ?? "", issue.message).message}`);
          }
        } catch (error) {
          if (error instanceof UserErrors) throw new UserErrors(error.errors, error.message, EXIT.findings);
          throw error;
        } finally {
          await Promise.all([...runner.endpoints.values()].map((endpoint) => endpoint.stop()));
          await store.close();
        }
      }
      console.log(`${file}: valid (${pipeline.stages.length} stages${options.offline ? ", file only" : ", services negotiated"})`);
    });
}
