import { type CommandScope, openCommandContext, repoPath } from "./command-context";
import { formatLintFinding, type LintReport, lintContracts } from "./contract-lint";

export interface LintCommandOptions extends CommandScope {
  /** Files or folders to lint (relative to cwd, or to --root); the whole repository when empty. */
  paths?: readonly string[];
}

/** `flow proto lint [paths...]`. */
export function runLintCommand(options: LintCommandOptions): LintReport {
  const context = openCommandContext(options);
  const paths = (options.paths ?? []).map((path) => repoPath(context, path));
  return lintContracts(context.repo, { prefix: context.settings.prefix, ledger: context.ledger, paths });
}

/** 2 when a file does not parse, 1 on findings, 0 when clean. */
export function lintExitCode(report: LintReport): number {
  if (report.unparsable.length > 0) return 2;
  return report.findings.length > 0 ? 1 : 0;
}

/**
 * Prints the report: one `path:line:col: rule: message` line and a hint per finding.
 * Returns the exit code: 2 when a file does not parse, 1 on findings, 0 when clean.
 */
export function reportLintResult(report: LintReport, options: { quiet?: boolean } = {}): number {
  for (const finding of [...report.unparsable, ...report.findings]) console.error(formatLintFinding(finding));
  if (report.unparsable.length > 0) {
    console.error(
      `lint: ${report.unparsable.length} file problem(s) stop the check: the input cannot be used`,
    );
    return 2;
  }
  if (report.findings.length > 0) {
    console.error(`lint: ${report.findings.length} finding(s) in ${report.files.length} file(s)`);
    return 1;
  }
  if (!options.quiet) {
    console.log(
      `lint: ${report.files.length} file(s) in ${report.roots.length} proto root(s) follow the conventions`,
    );
  }
  return 0;
}
