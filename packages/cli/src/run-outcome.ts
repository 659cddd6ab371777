import { allowedDeadLetters, type Pipeline, type RunResult } from "@flow/core";
import { EXIT } from "./exit-codes";

/** How a run ended, for the summary, `--json` and the exit code. */
export interface RunOutcome {
  exitCode: number;
  /** Events the sources read in this run: what a `deadLetters.allow` percentage is of. */
  eventsRead: number;
  /** The most dead letters this run may have and still succeed. */
  deadLettersAllowed: number;
  /** A run that went to its end with more dead letters than allowed. */
  overAllowance: boolean;
}

/**
 * A run that reached its end succeeded only if it dead-lettered no more than the pipeline's
 * `deadLetters.allow` (none by default): otherwise it exits EXIT.deadLetters, so "2,000 of 2,000
 * events dead-lettered" is never reported as a success. A stop or a failure keeps its own code.
 */
export function judgeRun(result: RunResult, pipeline: Pipeline): RunOutcome {
  const eventsRead = result.stages
    .filter((stage) => stage.family === "source")
    .reduce((sum, stage) => sum + stage.eventsOut, 0);
  const deadLettersAllowed = allowedDeadLetters(pipeline.deadLetters.allow, eventsRead);
  const overAllowance = result.status === "succeeded" && result.deadLetters > deadLettersAllowed;
  const exitCode =
    result.status === "stopped"
      ? EXIT.interrupted
      : result.status === "failed"
        ? EXIT.findings
        : overAllowance
          ? EXIT.deadLetters
          : EXIT.ok;
  return { exitCode, eventsRead, deadLettersAllowed, overAllowance };
}
