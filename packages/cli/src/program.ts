import { Command } from "commander";
import { registerProtoCommands } from "./proto-commands";

/** The `flow` command line: each command group registers itself from its own file. */
export function buildProgram(): Command {
  const program = new Command("flow")
    .description("Run event pipelines of independent gRPC services")
    .exitOverride()
    .showHelpAfterError();
  registerProtoCommands(program);
  return program;
}
