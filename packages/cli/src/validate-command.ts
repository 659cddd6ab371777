import { resolve } from "node:path";
import {
  type EdgePath,
  loadPipeline,
  type Pipeline,
  pipelineEdgePaths,
  StageServices,
  salvageOf,
  stageConfigError,
} from "@flow/core";
import { isUserError, type UserError, UserErrors } from "@flow/errors";
import type { Command } from "commander";
import pino from "pino";
import { EXIT } from "./exit-codes";
import { checkDeadLetterPath, checkStateStore } from "./pipeline-environment-checks";
import { problemJson } from "./problem-json";

interface ValidateOptions {
  offline?: boolean;
  json?: boolean;
}

interface Findings {
  pipeline?: Pipeline;
  /** Problems of the file itself: it cannot be used (exit 2, as `flow run` would). */
  fileErrors: readonly UserError[];
  /** Problems of what it names: the state store, the dead-letter file, the services' configs (exit 1). */
  otherErrors: readonly UserError[];
  warnings: string[];
  /** How each edge would carry its batches (once every service negotiated). */
  edges?: EdgePath[];
}

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
    .option("--json", "print the findings as one JSON object on stdout (and nothing else there)")
    .action(async (file: string, options: ValidateOptions) => {
      const findings = await validate(file, options);
      const errors = [...findings.fileErrors, ...findings.otherErrors];
      const exitCode =
        findings.fileErrors.length > 0 ? EXIT.usage : errors.length > 0 ? EXIT.findings : EXIT.ok;
      if (options.json) {
        process.stdout.write(
          `${JSON.stringify({
            file,
            valid: errors.length === 0,
            offline: options.offline === true,
            stages: findings.pipeline?.stages.length ?? 0,
            problems: errors.map(problemJson),
            warnings: findings.warnings,
            edges: findings.edges ?? [],
            exitCode,
          })}\n`,
        );
        process.exitCode = exitCode;
        return;
      }
      for (const warning of findings.warnings) console.error(`warning: ${warning}`);
      if (errors.length > 0) throw new UserErrors(errors, `${file}: ${errors.length} problem(s)`, exitCode);
      console.log(
        `${file}: valid (${findings.pipeline?.stages.length} stages${options.offline ? ", file only" : ", services negotiated"})`,
      );
      for (const edge of findings.edges ?? [])
        console.log(
          `  ${edge.from} -> ${edge.to}: ${edge.path === "direct" ? "direct" : `through Core (${edge.reason})`}`,
        );
    });
}

async function validate(file: string, options: ValidateOptions): Promise<Findings> {
  let pipeline: Pipeline;
  let fileErrors: readonly UserError[] = [];
  try {
    pipeline = loadPipeline(resolve(file));
  } catch (error) {
    const salvage = salvageOf(error);
    if (!isUserError(error)) throw error;
    const errors = error instanceof UserErrors ? error.errors : [error];
    if (!salvage || options.offline) return { fileErrors: errors, otherErrors: [], warnings: [] };
    fileErrors = errors;
    pipeline = salvage;
  }
  const warnings = pipeline.warnings.map((warning) => warning.message);
  // The state store and the dead-letter file of a file with problems are not known for sure
  // (the salvaged stages run on a throwaway store), so they are checked once the file is valid.
  const environmentErrors = options.offline || fileErrors.length > 0 ? [] : await checkEnvironment(pipeline);
  const negotiated = options.offline ? { errors: [] } : await negotiateAll(pipeline, warnings);
  return {
    pipeline,
    fileErrors,
    otherErrors: [...environmentErrors, ...negotiated.errors],
    warnings,
    edges: negotiated.edges,
  };
}

/** What `flow run` would find out only when it writes: the state store and the dead-letter file. */
async function checkEnvironment(pipeline: Pipeline): Promise<UserError[]> {
  const problems = [await checkStateStore(pipeline), checkDeadLetterPath(pipeline)];
  return problems.filter((problem): problem is UserError => problem !== undefined);
}

/**
 * Starts the services, negotiates, stops them; returns every error (warnings are added to
 * `warnings`) and, when all negotiated, the way each edge would carry its batches.
 */
async function negotiateAll(
  pipeline: Pipeline,
  warnings: string[],
): Promise<{ errors: UserError[]; edges?: EdgePath[] }> {
  const logger = pino({ level: "warn" }, pino.destination(2));
  const services = new StageServices({
    plan: pipeline,
    logger,
    describeProblem: (problem) =>
      stageConfigError(pipeline, problem.stageId, problem.pointer ?? "", problem.message),
  });
  try {
    await services.start();
    const negotiated = await services.negotiate();
    for (const issue of negotiated.warnings) {
      warnings.push(stageConfigError(pipeline, issue.stageId, issue.pointer ?? "", issue.message).message);
    }
    return { errors: [], edges: pipelineEdgePaths(pipeline, services, negotiated) };
  } catch (error) {
    if (error instanceof UserErrors) return { errors: [...error.errors] };
    if (error instanceof Error && "hint" in error) return { errors: [error as UserError] };
    throw error;
  } finally {
    await services.stop();
  }
}
