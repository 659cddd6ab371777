import { type CheckResult, fail, pass } from "../check-result";

/** Every sequence sent answered exactly once, and nothing answered that was not sent. */
export function answerCountCheck(sent: bigint[], answered: bigint[], fix: string): CheckResult {
  const counts = new Map<bigint, number>();
  for (const sequence of answered) counts.set(sequence, (counts.get(sequence) ?? 0) + 1);
  const missing = sent.filter((sequence) => !counts.has(sequence));
  const twice = [...counts].filter(([, count]) => count > 1).map(([sequence]) => sequence);
  const unknown = [...counts.keys()].filter((sequence) => !sent.includes(sequence));
  if (missing.length + twice.length + unknown.length === 0)
    return pass("data.sequence", `${sent.length} batches, each answered once with its own sequence`);
  const parts = [
    missing.length > 0 ? `unanswered: ${missing.join(", ")}` : "",
    twice.length > 0 ? `answered twice: ${twice.join(", ")}` : "",
    unknown.length > 0 ? `answers for sequences never sent: ${unknown.join(", ")}` : "",
  ].filter((part) => part !== "");
  return fail("data.sequence", `sent ${sent.join(", ")}; ${parts.join("; ")}`, fix);
}
