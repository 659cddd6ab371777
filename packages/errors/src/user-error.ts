/**
 * An error the user can act on: one line saying what is wrong, and a hint saying how to fix it.
 * Commands print these without a stack trace; anything else is a bug and keeps its stack.
 */
export class UserError extends Error {
  readonly hint: string | undefined;
  /** Process exit code: 2 means the input could not be used. */
  readonly exitCode: number;

  constructor(message: string, options: { hint?: string; exitCode?: number } = {}) {
    super(message);
    this.name = "UserError";
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? 2;
  }
}

export function isUserError(error: unknown): error is UserError {
  return error instanceof UserError;
}

/** One or more user errors at once (a config with several mistakes reports all of them). */
export class UserErrors extends UserError {
  constructor(
    readonly errors: readonly UserError[],
    summary?: string,
    exitCode?: number,
  ) {
    super(summary ?? `${errors.length} problem(s)`, { exitCode: exitCode ?? errors[0]?.exitCode ?? 2 });
    this.name = "UserErrors";
  }
}

/** The text a command prints for a user error: the message, then the hint on its own line. */
export function formatUserError(error: UserError): string {
  if (error instanceof UserErrors) return error.errors.map(formatUserError).join("\n");
  return `error: ${error.message}${error.hint ? `\n  hint: ${error.hint}` : ""}`;
}
