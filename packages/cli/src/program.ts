import { Command, CommanderError } from "commander";
import { registerCheckpointsCommand } from "./checkpoints-command";
import { registerConformCommand } from "./conform-command";
import { coreContracts, versionText } from "./core-contracts";
import { registerDeadLettersCommand } from "./dead-letters-command";
import { registerDescribeCommand } from "./describe-command";
import { registerNewCommand } from "./new-command";
import { registerProtoCommands } from "./proto-commands";
import { registerRegistryCommand } from "./registry-command";
import { registerRunCommand } from "./run-command";
import { registerStatusCommand } from "./status-command";
import { registerTestCommand } from "./test-command";
import { registerValidateCommand } from "./validate-command";

/** The `flow` command line: each command group registers itself from its own file. */
export function buildProgram(): Command {
  const program = new Command("flow")
    .description("Run event pipelines of independent gRPC services")
    .exitOverride()
    .showHelpAfterError();
  // Read only when asked: it lists Core's proto folders.
  program
    .option("-V, --version", "print the CLI's version and the contract majors Core speaks")
    .on("option:version", () => {
      process.stdout.write(`${versionText(cliVersion(), coreContracts())}\n`);
      throw new CommanderError(0, "flow.version", "version printed");
    });
  registerRunCommand(program);
  registerValidateCommand(program);
  registerTestCommand(program);
  registerDescribeCommand(program);
  registerConformCommand(program);
  registerStatusCommand(program);
  registerCheckpointsCommand(program);
  registerDeadLettersCommand(program);
  registerRegistryCommand(program);
  registerProtoCommands(program);
  registerNewCommand(program);
  return program;
}

function cliVersion(): string {
  return (require("../package.json") as { version: string }).version;
}
