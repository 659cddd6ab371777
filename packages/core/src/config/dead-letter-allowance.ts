import type { DeadLetterAllowance } from "./pipeline-model";

/**
 * `deadLetters.allow` as the file writes it, once the schema has accepted it: a whole number of
 * events (`100`) or a percentage of the events read (`"1%"`, plain `1%` in YAML is the same string).
 */
export function readDeadLetterAllowance(value: unknown): DeadLetterAllowance | undefined {
  if (typeof value === "number") return { count: value };
  if (typeof value === "string") return { percent: Number(value.slice(0, -1)) };
  return undefined;
}

/**
 * The most dead letters a run may have and still succeed. A percentage is of the events the
 * sources read in this run, rounded down, so "1%" of 150 events allows one.
 */
export function allowedDeadLetters(allow: DeadLetterAllowance | undefined, eventsRead: number): number {
  if (!allow) return 0;
  if ("count" in allow) return allow.count;
  return Math.floor((allow.percent * eventsRead) / 100);
}

/** How the allowance reads in a summary: `100`, or `1% of 20000 read = 200`. */
export function describeDeadLetterAllowance(
  allow: DeadLetterAllowance | undefined,
  eventsRead: number,
): string {
  if (!allow) return "0 (deadLetters.allow not set)";
  if ("count" in allow) return String(allow.count);
  return `${allow.percent}% of ${eventsRead} read = ${allowedDeadLetters(allow, eventsRead)}`;
}
