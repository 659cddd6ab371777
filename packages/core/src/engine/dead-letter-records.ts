import { existsSync, readFileSync } from "node:fs";
import { UserError } from "@flow/errors";

/** One line of a dead-letter file (see dead-letter-file.ts), as read back. */
export interface DeadLetterRecord {
  /** 1-based line number in the file. */
  line: number;
  at: string;
  pipeline: string;
  runId: string;
  stage: string;
  reason: string;
  /** The CloudEvent as the file holds it: JSON text, kept verbatim so payload digits stay exact. */
  eventJson: string;
  /** The few event attributes a listing shows. */
  eventId: string;
  eventType: string;
}

const EVENT_KEY = ',"event":';

/**
 * Reads a dead-letter file; a missing file has no records. A line that is not a dead letter is an
 * error naming `path:line`, so a damaged file is noticed rather than half-read.
 *
 * The writer puts the event last, spliced in as CloudEvents JSON text. The first `,"event":` of a
 * line is that key: the fields before it are JSON.stringify output, where a quote inside a string
 * is always escaped, so the sequence cannot occur inside them.
 */
export function readDeadLetters(path: string): DeadLetterRecord[] {
  if (!existsSync(path)) return [];
  const records: DeadLetterRecord[] = [];
  const lines = readFileSync(path, "utf8").split("\n");
  for (const [index, text] of lines.entries()) {
    if (text.trim() === "") continue;
    records.push(parseLine(text, `${path}:${index + 1}`, index + 1));
  }
  return records;
}

function parseLine(text: string, where: string, line: number): DeadLetterRecord {
  const fail = (what: string) =>
    new UserError(`${where}: not a dead-letter line (${what})`, {
      hint: "dead-letter files are written by flow run, one JSON object per line; remove or repair the line",
    });
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw fail(`invalid JSON: ${(error as Error).message}`);
  }
  const split = text.indexOf(EVENT_KEY);
  const event = parsed.event as Record<string, unknown> | undefined;
  if (split < 0 || typeof event !== "object" || event === null || Array.isArray(event))
    throw fail('no "event" object');
  for (const field of ["at", "pipeline", "runId", "stage", "reason"] as const) {
    if (typeof parsed[field] !== "string") throw fail(`"${field}" is not a string`);
  }
  return {
    line,
    at: parsed.at as string,
    pipeline: parsed.pipeline as string,
    runId: parsed.runId as string,
    stage: parsed.stage as string,
    reason: parsed.reason as string,
    eventJson: text.slice(split + EVENT_KEY.length, text.lastIndexOf("}")),
    eventId: String(event.id ?? ""),
    eventType: String(event.type ?? ""),
  };
}
