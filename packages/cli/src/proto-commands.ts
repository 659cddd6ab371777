import type { Command } from "commander";
import { reportVendorResult, runVendorCommand } from "@flow/prototools";

/** `flow proto ...`: the contract toolchain. */
export function registerProtoCommands(program: Command): void {
  const proto = program.command("proto").description("Contract toolchain: vendor, lint, breaking, release, pins");

  proto
    .command("vendor")
    .description("Vendor pinned contracts with git read-tree, or verify them (--check)")
    .argument("[dirs...]", "folders with a proto-pins.yaml (default: all of them)")
    .option("--check", "verify the vendored copies against their locks; change nothing")
    .option("--force", "replace vendored copies even when they were edited")
    .option("--root <dir>", "the repository (default: the one containing the current folder)")
    .action((dirs: string[], options: { check?: boolean; force?: boolean; root?: string }) => {
      const result = runVendorCommand({ ...options, dirs });
      process.exitCode = reportVendorResult(result, options);
    });
}
