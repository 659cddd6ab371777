import { isDeepStrictEqual } from "node:util";
import { parseJsonPath, selectJsonPath } from "./json-path";
import type { StageExpectation } from "./pipeline-test-file";
import { diffableJson, lineDiff } from "./text-diff";

/** What one stage put out in a test: its events and dead letters, as CloudEvents JSON. */
export interface StageOutput {
  events: Record<string, unknown>[];
  deadLetters: { reason: string; event: Record<string, unknown> }[];
}

export type ExpectationCheck = "count" | "equal" | "contains" | "match" | "deadLetters";

/** An expectation that did not hold: what was checked, in one line, and a diff where one helps. */
export interface ExpectationFailure {
  stage: string;
  check: ExpectationCheck;
  message: string;
  expected?: unknown;
  actual?: unknown;
  /** `- expected` / `+ actual` lines. */
  diff?: string;
}

/** Every failure of one stage's expectations against its output (none: it holds). */
export function checkExpectation(expectation: StageExpectation, output: StageOutput): ExpectationFailure[] {
  const { stage } = expectation;
  const failures: ExpectationFailure[] = [];
  const fail = (check: ExpectationCheck, message: string, expected?: unknown, actual?: unknown) => {
    const failure: ExpectationFailure = { stage, check, message };
    if (expected !== undefined || actual !== undefined) {
      failure.expected = expected;
      failure.actual = actual;
      failure.diff = lineDiff(diffableJson(expected), diffableJson(actual));
    }
    failures.push(failure);
  };
  const { events } = output;
  if (expectation.count !== undefined && events.length !== expectation.count) {
    fail("count", `expected ${expectation.count} event(s), got ${events.length}`);
  }
  if (expectation.equal && !isDeepStrictEqual(events, expectation.equal)) {
    fail("equal", "the output is not equal to the expected events", expectation.equal, events);
  }
  for (const [index, wanted] of (expectation.contains ?? []).entries()) {
    if (!events.some((event) => matchesPartially(event, wanted))) {
      // The diff is against the closest event, seen through the fields the expectation names.
      const closest = closestEvent(events, wanted);
      fail(
        "contains",
        `no event matches contains[${index}]${closest ? `; the closest is event ${closest.index + 1} (id ${JSON.stringify(events[closest.index]?.id)})` : " (the output is empty)"}`,
        wanted,
        closest?.seen,
      );
    }
  }
  for (const [text, wanted] of Object.entries(expectation.match ?? {})) {
    let path: ReturnType<typeof parseJsonPath>;
    try {
      path = parseJsonPath(text);
    } catch (error) {
      fail("match", (error as Error).message);
      continue;
    }
    const selected = selectJsonPath(path, events);
    if (path.singular && selected.length === 0) {
      fail("match", `${text} selects nothing`, wanted, undefined);
    } else {
      const actual = path.singular ? selected[0] : selected;
      if (!isDeepStrictEqual(actual, wanted)) fail("match", `${text} does not match`, wanted, actual);
    }
  }
  if (expectation.deadLetters) checkDeadLetters(expectation.deadLetters, output, fail);
  return failures;
}

function checkDeadLetters(
  wanted: NonNullable<StageExpectation["deadLetters"]>,
  output: StageOutput,
  fail: (check: ExpectationCheck, message: string, expected?: unknown, actual?: unknown) => void,
): void {
  const actual = output.deadLetters;
  const holds =
    actual.length === wanted.length &&
    wanted.every(
      (letter, index) =>
        (letter.reason === undefined || (actual[index]?.reason ?? "").includes(letter.reason)) &&
        (letter.event === undefined || matchesPartially(actual[index]?.event, letter.event)),
    );
  if (holds) return;
  const message =
    actual.length !== wanted.length
      ? `expected ${wanted.length} dead letter(s), got ${actual.length}`
      : "the dead letters do not match (reason: text it contains; event: the fields named)";
  // The diff shows only what the expectation names, so it points at the difference, not at noise.
  const shown = actual.map((letter, index) => {
    const like = wanted[index];
    return {
      ...(like?.reason === undefined && like ? {} : { reason: letter.reason }),
      ...(like?.event ? { event: pickLike(letter.event, like.event) } : like ? {} : { event: letter.event }),
    };
  });
  fail("deadLetters", message, wanted, shown);
}

/**
 * `actual` has every field `wanted` names with that value: objects are compared on the fields
 * `wanted` names (recursively), arrays element by element with the same length, anything else exactly.
 */
export function matchesPartially(actual: unknown, wanted: unknown): boolean {
  if (Array.isArray(wanted)) {
    return (
      Array.isArray(actual) &&
      actual.length === wanted.length &&
      wanted.every((item, index) => matchesPartially(actual[index], item))
    );
  }
  if (typeof wanted === "object" && wanted !== null) {
    if (typeof actual !== "object" || actual === null || Array.isArray(actual)) return false;
    const object = actual as Record<string, unknown>;
    return Object.entries(wanted).every(([key, value]) => matchesPartially(object[key], value));
  }
  return isDeepStrictEqual(actual, wanted);
}

/** The output event whose diff with `wanted` has the fewest changed lines. */
function closestEvent(
  events: Record<string, unknown>[],
  wanted: Record<string, unknown>,
): { index: number; seen: unknown } | undefined {
  let best: { index: number; seen: unknown; changed: number } | undefined;
  for (const [index, event] of events.entries()) {
    const seen = pickLike(event, wanted);
    const changed = lineDiff(diffableJson(wanted), diffableJson(seen))
      .split("\n")
      .filter((line) => !line.startsWith("  ")).length;
    if (!best || changed < best.changed) best = { index, seen, changed };
  }
  return best && { index: best.index, seen: best.seen };
}

/** The fields of `actual` that `like` names (recursively), so a diff lines up with a partial expectation. */
function pickLike(actual: unknown, like: unknown): unknown {
  if (typeof like !== "object" || like === null || Array.isArray(like)) return actual;
  if (typeof actual !== "object" || actual === null || Array.isArray(actual)) return actual;
  const object = actual as Record<string, unknown>;
  return Object.fromEntries(Object.entries(like).map(([key, value]) => [key, pickLike(object[key], value)]));
}
