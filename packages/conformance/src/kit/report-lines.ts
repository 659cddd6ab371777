import type { CheckResult } from "./check-result";
import type { ConformReport } from "./run-conformance";

/** One line per check: `PASS id: why`, `FAIL id: why` then `  fix: ...`, `SKIP id: why`. */
export function formatResult(result: CheckResult): string {
  const head = `${result.status.toUpperCase()} ${result.id}: ${result.why}`;
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
