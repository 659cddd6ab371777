import { checkBreakingAgainstRef } from "./breaking-against-ref";
import { type ContractComparison, checkBreaking } from "./breaking-check";
import { type CommandScope, openCommandContext } from "./command-context";
import { formatLedgerFinding, type LedgerFinding, verifyLedger } from "./ledger-verification";
import { expectedPackage } from "./proto-layout";

export interface BreakingCommandOptions extends CommandScope {
  /** Contract names (or folders); every authored contract when empty. */
  names?: readonly string[];
  /** Compare with the folders at this git ref instead of with the latest releases. */
  against?: string;
}

export interface BreakingCommandResult {
  comparisons: ContractComparison[];
  /** Ledger entries the gate cannot vouch for (of the contracts compared): breaking, too. */
  ledgerFindings: LedgerFinding[];
  prefix: string;
}

/** `flow proto breaking [name...]`. */
export function runBreakingCommand(options: BreakingCommandOptions): BreakingCommandResult {
  const context = openCommandContext(options);
  const comparisons =
    options.against !== undefined
      ? checkBreakingAgainstRef(context.repo, context.ledger, options.against, options.names ?? [])
      : checkBreaking(context.repo, context.ledger, options.names ?? []);
  const names = new Set(comparisons.map((comparison) => comparison.folder.name));
  const ledgerFindings = verifyLedger(context.repo, context.ledger).findings.filter(
    (finding) => (options.names ?? []).length === 0 || names.has(finding.release.name),
  );
  return { comparisons, ledgerFindings, prefix: context.settings.prefix };
}

/** 1 when anything breaks (a change, or a ledger entry the gate never accepted), else 0. */
export function breakingExitCode(result: BreakingCommandResult): number {
  const breaking = result.comparisons.some((comparison) => comparison.changes.length > 0);
  return breaking || result.ledgerFindings.length > 0 ? 1 : 0;
}

/** Prints every breaking change as `file:line:col: RULE: message`, then a hint; returns the exit code. */
export function reportBreakingResult(
  result: BreakingCommandResult,
  options: { quiet?: boolean } = {},
): number {
  let breaking = 0;
  for (const { folder, status, against, againstRef, changes, hint } of result.comparisons) {
    const label = `${folder.name} v${folder.major} (${folder.path})`;
    const baseline = againstRef ?? against?.version;
    if (changes.length > 0 && baseline !== undefined) {
      breaking += changes.length;
      for (const change of changes)
        console.error(`${change.file}:${change.line}:${change.col}: ${change.rule}: ${change.message}`);
      const next = `${folder.name}/v${folder.major + 1}`;
      if (hint) {
        console.error(`  hint: ${hint}`);
        continue;
      }
      console.error(
        `  hint: ${label} breaks ${againstRef ?? `${against?.version} (${against?.tag})`} in ${changes.length} place(s). ` +
          `Undo the change, or make it a new major: add ${folder.root}/${next}/ beside v${folder.major} ` +
          `(package ${expectedPackage(result.prefix, folder.name, folder.major + 1)}) and release it with: flow proto release ${folder.name} major`,
      );
      continue;
    }
    if (options.quiet) continue;
    if (status === "compared") console.log(`${label}: compatible with ${baseline}`);
    else if (status === "unchanged") console.log(`${label}: unchanged since ${baseline}`);
    else if (status === "new") console.log(`${label}: not at ${againstRef}, nothing to compare`);
    else if (status === "new-major")
      console.log(`${label}: new major, nothing released in it yet (breaking is allowed)`);
    else console.log(`${label}: not released yet`);
  }
  for (const finding of result.ledgerFindings) console.error(formatLedgerFinding(finding));
  if (breaking > 0 || result.ledgerFindings.length > 0) {
    console.error(
      `breaking: ${breaking} breaking change(s)${result.ledgerFindings.length > 0 ? `, ${result.ledgerFindings.length} ledger entr${result.ledgerFindings.length === 1 ? "y" : "ies"} the gate never accepted` : ""}`,
    );
    return 1;
  }
  return 0;
}
