import { isUserError } from "@flow/errors";
import type { BreakingCommandResult } from "./breaking-command";
import { breakingExitCode } from "./breaking-command";
import type { LintReport } from "./contract-lint";
import { lintExitCode } from "./lint-command";

/**
 * The `--json` documents of `flow proto lint` and `flow proto breaking`: one JSON object on stdout,
 * nothing else, shaped as docs/contracts.md describes. Every finding has file, line, column, rule,
 * message and hint; `exitCode` is the command's exit code.
 */
export interface JsonFinding {
  file: string;
  line: number;
  column: number;
  rule: string;
  message: string;
  hint: string;
}

export interface LintJson {
  command: "proto lint";
  ok: boolean;
  exitCode: number;
  /** How many .proto files were linted, and the proto roots they sit in. */
  files: number;
  roots: string[];
  /** Convention findings (exit 1). */
  findings: JsonFinding[];
  /** Files that cannot be used (exit 2). */
  unusable: JsonFinding[];
}

export interface BreakingJson {
  command: "proto breaking";
  ok: boolean;
  exitCode: number;
  /** The git ref compared with (--against), or null: each contract's latest release. */
  againstRef: string | null;
  contracts: {
    name: string;
    major: number;
    path: string;
    status: string;
    /** The release compared with, when one was. */
    against: { version: string; tag: string } | null;
  }[];
  /** Breaking changes, then ledger entries the gate never accepted (rule "ledger"). */
  findings: JsonFinding[];
}

export interface ErrorJson {
  command: string;
  ok: false;
  exitCode: number;
  error: { message: string; hint: string | null };
  findings: [];
}

/** Any finding (file, line, col, message) in the one JSON shape. */
function toJsonFinding(
  found: { file: string; line: number; col: number; message: string },
  rule: string,
  hint: string,
): JsonFinding {
  return { file: found.file, line: found.line, column: found.col, rule, message: found.message, hint };
}

export function lintJson(report: LintReport): LintJson {
  const exitCode = lintExitCode(report);
  const finding = (f: LintReport["findings"][number]) => toJsonFinding(f, f.rule, f.hint);
  return {
    command: "proto lint",
    ok: exitCode === 0,
    exitCode,
    files: report.files.length,
    roots: report.roots,
    findings: report.findings.map(finding),
    unusable: report.unparsable.map(finding),
  };
}

export function breakingJson(result: BreakingCommandResult, againstRef?: string): BreakingJson {
  const exitCode = breakingExitCode(result);
  const findings: JsonFinding[] = result.comparisons.flatMap((comparison) =>
    comparison.changes.map((change) =>
      toJsonFinding(
        change,
        change.rule,
        comparison.hint ??
          `undo the change, or make it a new major: ${comparison.folder.root}/${comparison.folder.name}/v${comparison.folder.major + 1}/`,
      ),
    ),
  );
  for (const finding of result.ledgerFindings) findings.push(toJsonFinding(finding, "ledger", finding.hint));
  return {
    command: "proto breaking",
    ok: exitCode === 0,
    exitCode,
    againstRef: againstRef ?? null,
    contracts: result.comparisons.map(({ folder, status, against }) => ({
      name: folder.name,
      major: folder.major,
      path: folder.path,
      status,
      against: against ? { version: against.version, tag: against.tag } : null,
    })),
    findings,
  };
}

/** A user error as the command's JSON document (exit code as the error says); other errors rethrow. */
export function errorJson(command: string, error: unknown): ErrorJson {
  if (!isUserError(error)) throw error;
  return {
    command,
    ok: false,
    exitCode: error.exitCode,
    error: { message: error.message, hint: error.hint ?? null },
    findings: [],
  };
}
