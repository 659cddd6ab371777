import { STATUS_CODES } from "node:http";

/** What a server's answer means for the batch: written, worth sending again, or never acceptable. */
export type Verdict = "written" | "retryable" | "permanent";

/**
 * 2xx is written. 429 (too many requests), 408 (request timeout) and every 5xx are the server's
 * momentary trouble: retryable. Any other status - a 4xx refusal, a redirect (not followed: a
 * webhook URL that moved is a configuration to fix) - is the server's verdict on the request:
 * permanent, the batch is dead-lettered.
 */
export function verdictOf(status: number): Verdict {
  if (status >= 200 && status < 300) return "written";
  if (status === 429 || status === 408 || status >= 500) return "retryable";
  return "permanent";
}

/** "503 Service Unavailable: <the start of the body>", for reasons and dead letters. */
export function describeAnswer(status: number, bodyStart: string): string {
  const phrase = STATUS_CODES[status] ?? "";
  const body = bodyStart.replace(/\s+/g, " ").trim();
  return `${status}${phrase ? ` ${phrase}` : ""}${body ? `: ${body}` : ""}`;
}
