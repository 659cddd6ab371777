import { UserError, UserErrors } from "@flow/errors";
import { compareLocations, formatLocation, type SourceLocation } from "./source-location";

/**
 * One thing wrong (or suspicious, for warnings) in a pipeline file: where, what was found and
 * what was expected (in `message`), and how to fix it (in `hint`).
 */
export interface PipelineProblem {
  location: SourceLocation;
  message: string;
  hint?: string;
}

/** `file:line:col: message`, the way the CLI prints a problem's first line. */
export function formatProblem(problem: PipelineProblem): string {
  return `${formatLocation(problem.location)}: ${problem.message}`;
}

export function problemToUserError(problem: PipelineProblem): UserError {
  return new UserError(formatProblem(problem), { hint: problem.hint });
}

/** All problems at once, top to bottom, so one edit-and-rerun round fixes everything. */
export function problemsToUserErrors(file: string, problems: readonly PipelineProblem[]): UserErrors {
  const sorted = [...problems].sort((a, b) => compareLocations(a.location, b.location));
  const errors = sorted.map(problemToUserError);
  const summary = `${file}: ${errors.length} problem${errors.length === 1 ? "" : "s"} in the pipeline file`;
  return new UserErrors(errors, summary);
}
