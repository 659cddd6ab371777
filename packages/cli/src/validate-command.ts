import { resolve } from "node:path";
import { loadPipeline, type Pipeline, StageServices, salvageOf, stageConfigError } from "@flow/core";
import { type UserError, UserErrors } from "@flow/errors";
import type { Command } from "commander";
import pino from "pino";
import { EXIT } from "./exit-codes";
import { checkDeadLetterPath, checkStateStore } from "./pipeline-environment-checks";

/**
 * `flow validate <pipeline.yaml>`: the file, the state store and dead-letter file it names (usable,
 * without creating either), then negotiation with every service and every config in validate-only
 * mode; no data moves. Problems of the file and of the services' configs are
 * reported together (stages that are well-formed are still checked when others are not).
 */
export function registerValidateCommand(program: Command): void {
  program
    .command("validate")
    .description(
      "Check a pipeline without moving data: the file, its state store and dead-letter file, each service's contract and event types, every config (validate-only)",
    )
    .argument("<pipeline>", "the pipeline file")
    .option("--offline", "check the file only; open no state store, start and ask no service")
    .action(async (file: string, options: { offline?: boolean }) => {
      let pipeline: Pipeline | undefined;
      let fileErrors: readonly UserError[] = [];
      try {
        pipeline = loadPipeline(resolve(file));
      } catch (error) {
        const salvage = salvageOf(error);
        if (!(error instanceof UserErrors) || !salvage || options.offline) throw error;
        fileErrors = error.errors;
        pipeline = salvage;
      }
      for (const warning of pipeline.warnings) console.error(`warning: ${warning.message}`);
      // The state store and the dead-letter file of a file with problems are not known for sure
      // (the salvaged stages run on a throwaway store), so they are checked once the file is valid.
      const environmentErrors =
        options.offline || fileErrors.length > 0 ? [] : await checkEnvironment(pipeline);
      const serviceErrors = options.offline ? [] : await negotiateAll(pipeline);
      const errors = [...fileErrors, ...environmentErrors, ...serviceErrors];
      if (errors.length > 0)
        throw new UserErrors(errors, `${file}: ${errors.length} problem(s)`, EXIT.findings);
      console.log(
        `${file}: valid (${pipeline.stages.length} stages${options.offline ? ", file only" : ", services negotiated"})`,
      );
    });
}

/** What `flow run` would find out only when it writes: the state store and the dead-letter file. */
async function checkEnvironment(pipeline: Pipeline): Promise<UserError[]> {
  const problems = [await checkStateStore(pipeline), checkDeadLetterPath(pipeline)];
  return problems.filter((problem): problem is UserError => problem !== undefined);
}

/** Starts the services, negotiates, stops them; returns every error (warnings are printed). */
async function negotiateAll(pipeline: Pipeline): Promise<UserError[]> {
  const logger = pino({ level: "warn" }, pino.destination(2));
  const services = new StageServices({
    plan: pipeline,
    logger,
    describeProblem: (problem) =>
      stageConfigError(pipeline, problem.stageId, problem.pointer ?? "", problem.message),
  });
  try {
    await services.start();
    const { warnings } = await services.negotiate();
    for (const issue of warnings) {
      console.error(
        `warning: ${stageConfigError(pipeline, issue.stageId, issue.pointer ?? "", issue.message).message}`,
      );
    }
    return [];
  } catch (error) {
    if (error instanceof UserErrors) return [...error.errors];
    if (error instanceof Error && "hint" in error) return [error as UserError];
    throw error;
  } finally {
    await services.stop();
  }
}
