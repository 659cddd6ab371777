import { join } from "node:path";
import { findWorkspaceRoot, listWorkspacePackages, type ServiceLocator } from "@flow/core";
import { UserError } from "@flow/errors";
import type { Command } from "commander";
import { EXIT } from "./exit-codes";
import { openCommandState } from "./pipeline-state";

interface ConformOptions {
  command?: string;
  config?: string;
  state?: string;
  json?: boolean;
}

/** What the command uses of @flow/conformance (the conformance kit). */
interface CheckLine {
  id: string;
  status: "pass" | "fail" | "skip";
  why: string;
  fix: string;
}
interface ConformanceKit {
  locatorFromArgument(service: string | undefined, command: string | undefined, cwd: string): ServiceLocator;
  runConformance(options: {
    locator: ServiceLocator;
    baseDir: string;
    configPath?: string;
    lookupRegistry?: (name: string) => Promise<string[]>;
    onResult?: (result: CheckLine) => void;
  }): Promise<{ passed: boolean; results: CheckLine[] }>;
  formatResult(result: CheckLine): string;
  formatSummary(report: unknown): string;
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
      const kit = loadConformanceKit();
      const cwd = process.cwd();
      const locator = kit.locatorFromArgument(service, options.command, cwd);
      const state =
        locator.kind === "registry" ? await openCommandState({ state: options.state }) : undefined;
      try {
        const report = await kit.runConformance({
          locator,
          baseDir: cwd,
          configPath: options.config,
          lookupRegistry: state
            ? async (name) => (await state.store.listServices(name)).map((entry) => entry.address)
            : undefined,
          onResult: options.json ? undefined : (result) => console.log(kit.formatResult(result)),
        });
        console.log(options.json ? JSON.stringify(report, null, 2) : kit.formatSummary(report));
        process.exitCode = report.passed ? EXIT.ok : EXIT.findings;
      } finally {
        await state?.store.close();
      }
    });
}

/**
 * The kit is @flow/conformance. Until @flow/cli lists it as a dependency it is found in the
 * workspace the CLI runs from, as `use:` finds service packages.
 */
function loadConformanceKit(): ConformanceKit {
  try {
    return require("@flow/conformance") as ConformanceKit;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "MODULE_NOT_FOUND") throw error;
  }
  const root = findWorkspaceRoot(__dirname);
  const dir = root ? listWorkspacePackages(root).get("@flow/conformance") : undefined;
  if (!dir)
    throw new UserError("flow conform needs the @flow/conformance package", {
      hint: "install it beside @flow/cli (npm install @flow/conformance)",
    });
  return require(join(dir, "dist", "index.js")) as ConformanceKit;
}
