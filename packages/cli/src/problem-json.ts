import { type UserError, UserErrors } from "@flow/errors";

export interface ProblemJson {
  /** The whole message, as the text output prints it after `error: `. */
  message: string;
  hint?: string;
  /** Where it is, when the message starts with `file:line:col: `. */
  file?: string;
  line?: number;
  column?: number;
}

/** One problem as `--json` prints it. */
export function problemJson(error: UserError): ProblemJson {
  const at = /^(.+?):(\d+):(\d+): /.exec(error.message);
  return {
    message: error.message,
    ...(error.hint ? { hint: error.hint } : {}),
    ...(at ? { file: at[1], line: Number(at[2]), column: Number(at[3]) } : {}),
  };
}

/** Every problem an error carries: the ones a UserErrors holds, or the error itself. */
export function problemsOf(error: Error): ProblemJson[] {
  if (error instanceof UserErrors) return error.errors.flatMap(problemsOf);
  return [problemJson(error as UserError)];
}
