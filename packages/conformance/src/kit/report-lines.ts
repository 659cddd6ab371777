import type { CheckResult } from "./check-result";
import type { ConformReport } from "./run-conformance";

/**
 * One line per check: `PASS id: why`, `FAIL id: why` then `  fix: ...`, `SKIP id: why`; a check
 * of one contract major names it first: `PASS processor_service v2: data.intact: why`.
 */
export function formatResult(result: CheckResult): string {
  const on = result.contract !== undefined ? `${result.contract} v${result.major}: ` : "";
  const head = `${result.status.toUpperCase()} ${on}${result.id}: ${result.why}`;
  return result.status === "fail" && result.fix ? `${head}\n  fix: ${result.fix}` : head;
}

export function formatSummary(report: ConformReport): string {
  const count = (status: CheckResult["status"]) =>
    report.results.filter((result) => result.status === status).length;
  const what = report.component
    ? `${report.component.name} ${report.component.version} (${report.component.family})`
    : report.service;
  return `${what}: ${count("pass")} passed, ${count("fail")} failed, ${count("skip")} skipped (config: ${report.config})`;
}
