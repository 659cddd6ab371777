/** What one conformance check found: pass, fail (why, and how to fix it) or skip (why it does not apply). */
export type CheckStatus = "pass" | "fail" | "skip";

export interface CheckResult {
  /** Stable identifier, e.g. `handshake.flushed`: what `--json` consumers and tests key on. */
  id: string;
  status: CheckStatus;
  /** What was seen: the reason for a failure or a skip, a short confirmation for a pass. */
  why: string;
  /** How to fix a failure (empty for a pass or a skip). */
  fix: string;
  /**
   * The family contract and major a check of one contract major was run on (`processor_service`,
   * 2); absent for checks of the service as a whole (handshake, health, lifecycle). The same `id`
   * comes once per major a service serves.
   */
  contract?: string;
  major?: number;
}

export function pass(id: string, why: string): CheckResult {
  return { id, status: "pass", why, fix: "" };
}

export function fail(id: string, why: string, fix: string): CheckResult {
  return { id, status: "fail", why, fix };
}

export function skip(id: string, why: string): CheckResult {
  return { id, status: "skip", why, fix: "" };
}

/** A check that threw instead of returning: a failure whose reason is the error's message. */
export function failFromError(id: string, error: unknown, fix: string): CheckResult {
  const details = (error as { details?: string }).details;
  return fail(id, details || (error instanceof Error ? error.message : String(error)), fix);
}

/** Results of checks run on one contract major, marked with it. */
export function onMajor(contract: string, major: number, results: CheckResult[]): CheckResult[] {
  return results.map((result) => ({ ...result, contract, major }));
}
