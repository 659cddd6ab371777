import { relative } from "node:path";
import { PNPM_CLI } from "@flow/core";
import { SERVICE_FAMILIES, scaffoldService, scaffoldStandaloneService } from "@flow/prototools";
import type { Command } from "commander";

interface NewOptions {
  dir?: string;
  scope?: string;
  root?: string;
  prefix?: string;
  standalone?: string;
  flowRepo?: string;
  flowRef?: string;
}

/**
 * `flow new source|processor|consumer <name>`: a new service package, ready to build and test; in
 * this workspace, or with `--standalone <dir>` in a repository of its own.
 */
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
    .option(
      "--scope <scope>",
      "npm scope of the package name (default: @flow; with --standalone: none, flow-<family>-<name>)",
    )
    .option("--root <dir>", "the repository (default: the one containing the current folder)")
    .option("--prefix <prefix>", "protobuf package prefix (default: the repository's flow.proto.yaml)")
    .option(
      "--standalone <dir>",
      "create the service in its own git repository in <dir> (new or empty), outside any Flow workspace",
    )
    .option(
      "--flow-repo <path|url>",
      "with --standalone: the Flow repository to fetch released contracts from (default: the Flow clone this command runs from)",
    )
    .option("--flow-ref <ref>", "with --standalone: the branch, tag or commit of it to vendor from", "HEAD")
    .action((family: string, name: string, options: NewOptions) => {
      if (options.standalone !== undefined) newStandalone(family, name, options.standalone, options);
      else newInWorkspace(family, name, options);
    });
}

function newInWorkspace(family: string, name: string, options: NewOptions): void {
  const result = scaffoldService({
    family,
    name,
    scope: options.scope ?? "@flow",
    ...(options.root !== undefined ? { root: options.root } : {}),
    ...(options.prefix !== undefined ? { prefix: options.prefix } : {}),
    ...(options.dir !== undefined ? { parent: options.dir } : {}),
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
}

function newStandalone(family: string, name: string, dir: string, options: NewOptions): void {
  const result = scaffoldStandaloneService({
    family,
    name,
    dir,
    ...(options.flowRepo !== undefined ? { flowRepo: options.flowRepo } : {}),
    ...(options.flowRef !== undefined ? { flowRef: options.flowRef } : {}),
    ...(options.scope !== undefined ? { scope: options.scope } : {}),
  });
  const shown = relative(process.cwd(), result.dir) || ".";
  console.log(`created   ${shown} (${result.packageName}), a git repository of its own`);
  for (const file of result.files) console.log(`  ${file}`);
  console.log(`fetched   ${result.flowRepo} at ${result.flowCommit} into refs/remotes/flow/release`);
  for (const action of result.vendored)
    console.log(`vendored  ${action.path} (${action.pin}: ${action.version})`);
  console.log(`next: cd ${shown} && npm install && npm run build && npm test && npx flow run pipeline.yaml`);
}
