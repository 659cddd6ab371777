/** The flow command's exit codes (documented in packages/cli/README.md). */
export const EXIT = {
  /** Success. */
  ok: 0,
  /** Findings: lint problems, breaking changes, a failed check, a pipeline run that failed. */
  findings: 1,
  /** The input could not be used: bad arguments, a missing or invalid file, not a git repository. */
  usage: 2,
  /** Interrupted by SIGINT/SIGTERM after draining (the run can be resumed). */
  interrupted: 130,
} as const;
