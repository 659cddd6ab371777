import { CommanderError } from "commander";
import { reportEscapedError } from "./escaped-error";
import { EXIT } from "./exit-codes";
import { buildProgram } from "./program";

/**
 * Runs the flow command and returns its exit code. Every error that escapes a command becomes one
 * clear line, no stack: user errors with their hint, anything else as escaped-error.ts describes.
 */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
    return typeof process.exitCode === "number" ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    return reportEscapedError(error);
  }
}
