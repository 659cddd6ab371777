import { formatUserError, isUserError } from "@flow/errors";
import { EXIT } from "./exit-codes";

/**
 * Prints an error no command turned into a message, as one line without a stack, and returns the
 * exit code. An error carrying a system or database code (EACCES, ENOSPC, SQLITE_FULL, a
 * PostgreSQL SQLSTATE) is the environment failing: exit 1. Anything else is a bug in Flow: exit
 * 70, and FLOW_DEBUG=1 prints its stack for the report.
 */
export function reportEscapedError(
  error: unknown,
  write: (text: string) => void = (text) => process.stderr.write(text),
): number {
  if (isUserError(error)) {
    write(`${formatUserError(error)}\n`);
    return error.exitCode;
  }
  const message = oneLine(error instanceof Error ? error.message : String(error));
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && code !== "" && !code.startsWith("ERR_")) {
    write(`error: ${message}${message.includes(code) ? "" : ` (${code})`}\n`);
    return EXIT.findings;
  }
  write(
    `error: internal error: ${message}\n  hint: this is a bug in Flow; run again with FLOW_DEBUG=1 to see where it happened, and report it\n`,
  );
  if (process.env.FLOW_DEBUG && error instanceof Error && error.stack) write(`${error.stack}\n`);
  return EXIT.internal;
}

function oneLine(text: string): string {
  return text.split("\n")[0]?.trim() || "unknown error";
}
