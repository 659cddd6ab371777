/** The flow command's exit codes (documented in packages/cli/README.md and the README). */
export const EXIT = {
  /** Success. */
  ok: 0,
  /** Findings: lint problems, breaking changes, a failed check, a pipeline run that failed. */
  findings: 1,
  /** The input could not be used: bad arguments, a missing or invalid file, not a git repository. */
  usage: 2,
  /**
   * A run that went to its end but dead-lettered more events than its `deadLetters.allow` permits
   * (none, unless the pipeline says so), so a scheduler that only checks the exit code notices.
   */
  deadLetters: 3,
  /** A bug in Flow (an error no command turned into a message); printed as one line. */
  internal: 70,
  /** Interrupted by SIGINT/SIGTERM after draining (the run can be resumed). */
  interrupted: 130,
} as const;
