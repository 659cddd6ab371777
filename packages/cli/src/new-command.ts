import { PNPM_CLI } from "@flow/core";
import { SERVICE_FAMILIES, scaffoldService } from "@flow/prototools";
import type { Command } from "commander";

/** `flow new source|processor|consumer <name>`: a new service package, ready to build and test. */
export function registerNewCommand(program: Command): void {
  program
    .command("new")
    .description(
      "Create a service package with its contracts vendored, a working service, its test and README",
    )
    .argument("<family>", SERVICE_FAMILIES.join(" | "))
    .argument("<name>", "kebab-case service name, e.g. order-enricher")
    .option(
      "--dir <folder>",
      "the folder to create it in (default: the family folder: sources, processors, consumers)",
    )
    .option("--scope <scope>", "npm scope of the package name", "@flow")
    .option("--root <dir>", "the repository (default: the one containing the current folder)")
    .option("--prefix <prefix>", "protobuf package prefix (default: the repository's flow.proto.yaml)")
    .action(
      (
        family: string,
        name: string,
        options: { dir?: string; scope: string; root?: string; prefix?: string },
      ) => {
        const { dir, ...rest } = options;
        const result = scaffoldService({
          ...rest,
          family,
          name,
          ...(dir !== undefined ? { parent: dir } : {}),
        });
        console.log(`created   ${result.dir} (${result.packageName})`);
        for (const file of result.files) console.log(`  ${file}`);
        for (const action of result.vendored)
          console.log(`vendored  ${action.path} (${action.pin}: ${action.version})`);
        if (!result.inWorkspace) {
          console.log(`note: add "${result.dir}" to pnpm-workspace.yaml so that pnpm installs it`);
        }
        console.log(
          `next: ${PNPM_CLI} install && ${PNPM_CLI} build --filter ${result.packageName}... && ${PNPM_CLI} --filter ${result.packageName} test`,
        );
      },
    );
}
