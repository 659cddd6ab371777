import { formatUserError, isUserError } from "@flow/errors";
import { CommanderError } from "commander";
import { EXIT } from "./exit-codes";
import { buildProgram } from "./program";

/** Runs the flow command and returns its exit code; user errors become one clear message, no stack. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
    return typeof process.exitCode === "number" ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (isUserError(error)) {
      console.error(formatUserError(error));
      return error.exitCode;
    }
    throw error;
  }
}
