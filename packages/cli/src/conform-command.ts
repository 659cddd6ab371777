import { formatResult, formatSummary, runConformance } from "@flow/conformance";
import { locatorFromArgument } from "@flow/core";
import type { Command } from "commander";
import { EXIT } from "./exit-codes";
import { openCommandState } from "./pipeline-state";

interface ConformOptions {
  command?: string;
  config?: string;
  state?: string;
  json?: boolean;
}

/**
 * `flow conform <service>`: the conformance kit against one service, found as `flow describe`
 * finds it. One line per check (pass / fail with why and how to fix / skip), or `--json`; exit 1
 * on any failure.
 */
export function registerConformCommand(program: Command): void {
  program
    .command("conform")
    .description(
      "Check that a service (in any language) keeps Flow's contracts: handshake, Describe, health, reflection, data plane, lifecycle, crashes",
    )
    .argument("[service]", "package name, host:port, dns:host:port, or registry:name")
    .option("--command <program>", "spawn this program (as `command:` in a pipeline)")
    .option("--config <file>", "the conformance config (JSON; default: the package's conform.json)")
    .option("--state <url>", "state store whose registry `registry:<name>` is looked up in")
    .option("--json", "print the report as JSON")
    .action(async (service: string | undefined, options: ConformOptions) => {
      const cwd = process.cwd();
      const locator = locatorFromArgument(service, options.command, cwd);
      const state =
        locator.kind === "registry" ? await openCommandState({ state: options.state }) : undefined;
      try {
        const report = await runConformance({
          locator,
          baseDir: cwd,
          configPath: options.config,
          lookupRegistry: state
            ? async (name) => (await state.store.listServices(name)).map((entry) => entry.address)
            : undefined,
          onResult: options.json ? undefined : (result) => console.log(formatResult(result)),
        });
        console.log(options.json ? JSON.stringify(report, null, 2) : formatSummary(report));
        process.exitCode = report.passed ? EXIT.ok : EXIT.findings;
      } finally {
        await state?.store.close();
      }
    });
}
