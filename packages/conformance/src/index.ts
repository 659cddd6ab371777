// @flow/conformance: the conformance kit behind `flow conform` (what the CLI and a service
// author's tests call), beside the package's own contract specs (src/messages, src/services).
export type { CheckResult, CheckStatus } from "./kit/check-result";
export {
  type ConformConfig,
  type EventSpec,
  loadConformConfig,
  parseConformConfig,
} from "./kit/conform-config";
export { formatResult, formatSummary } from "./kit/report-lines";
export { type ConformOptions, type ConformReport, runConformance } from "./kit/run-conformance";
