import {
  assertValidPrefix,
  breakingJson,
  errorJson,
  formatPinCommandResult,
  lintJson,
  reportBreakingResult,
  reportLintResult,
  reportVendorResult,
  runAddCommand,
  runBreakingCommand,
  runLintCommand,
  runReleaseCommand,
  runUpgradeCommand,
  runVendorCommand,
} from "@flow/prototools";
import { type Command, InvalidArgumentError } from "commander";

interface ScopeOptions {
  root?: string;
  prefix?: string;
}

/** --root and --prefix: every proto command works on any repository following the conventions. */
function withScope(command: Command): Command {
  return command
    .option("--root <dir>", "the repository (default: the one containing the current folder)")
    .option(
      "--prefix <prefix>",
      "protobuf package prefix (default: the prefix in the repository's flow.proto.yaml)",
    );
}

function parseMajor(value: string): number {
  if (!/^[1-9][0-9]*$/.test(value)) throw new InvalidArgumentError("a major version: 1, 2, ...");
  return Number(value);
}

/**
 * `--json`: the command's document, or its user error as one, on stdout and nothing else; the
 * exit code is the document's.
 */
function printJson(command: string, build: () => { exitCode: number }): void {
  let document: { exitCode: number };
  try {
    document = build();
  } catch (error) {
    document = errorJson(command, error);
  }
  process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
  process.exitCode = document.exitCode;
}

/** `flow proto ...`: the contract toolchain. */
export function registerProtoCommands(program: Command): void {
  const proto = program
    .command("proto")
    .description("Contract toolchain: lint, breaking-change gate, releases, pins and vendoring");

  withScope(
    proto
      .command("lint")
      .description("Check the contract conventions (exit 1 on findings, 2 when a file cannot be used)")
      .argument("[paths...]", "files or folders to check (default: the whole repository)")
      .option("--quiet", "print only findings")
      .option("--json", "print one JSON document on stdout (shape: docs/contracts.md), nothing else"),
  ).action((paths: string[], options: ScopeOptions & { quiet?: boolean; json?: boolean }) => {
    if (options.json) {
      printJson("proto lint", () => lintJson(runLintCommand({ ...options, paths })));
      return;
    }
    process.exitCode = reportLintResult(runLintCommand({ ...options, paths }), options);
  });

  withScope(
    proto
      .command("breaking")
      .description(
        "Compare each changed contract with the latest release of its major, or with a git ref (exit 1 on breaking changes)",
      )
      .argument(
        "[names...]",
        "contract names, or folders relative to the repository root (default: every contract)",
      )
      .option("--against <ref>", "compare with the folders at this git ref (branch, tag, commit) instead")
      .option("--quiet", "print only breaking changes")
      .option("--json", "print one JSON document on stdout (shape: docs/contracts.md), nothing else"),
  ).action(
    (names: string[], options: ScopeOptions & { quiet?: boolean; json?: boolean; against?: string }) => {
      if (options.json) {
        printJson("proto breaking", () =>
          breakingJson(runBreakingCommand({ ...options, names }), options.against),
        );
        return;
      }
      process.exitCode = reportBreakingResult(runBreakingCommand({ ...options, names }), options);
    },
  );

  withScope(
    proto
      .command("release")
      .description("Release a contract: checks, tag proto-<name>@v<version>, ledger entry, changelog")
      .argument(
        "<name>",
        "contract name (event), or its folder relative to the repository root (proto/event/v1)",
      )
      .argument("<kind>", "major, minor or patch")
      .option(
        "--major <n>",
        "for minor and patch: the major to release (default: the highest released)",
        parseMajor,
      )
      .option("--note <text>", "a line for the changelog entry")
      .option("--dry-run", "check everything, change nothing"),
  ).action(
    (
      name: string,
      kind: string,
      options: ScopeOptions & { major?: number; note?: string; dryRun?: boolean },
    ) => {
      const result = runReleaseCommand({ ...options, contract: name, kind });
      const { release } = result;
      const from = result.previous ? ` (after ${result.previous.version})` : "";
      if (result.dryRun) {
        console.log(
          `dry run: would release ${release.name} ${release.version}${from} as ${release.tag} on ${release.commit.slice(0, 12)}`,
        );
        return;
      }
      console.log(
        `released  ${release.name} ${release.version}${from}: tag ${release.tag} on ${release.commit.slice(0, 12)}, tree ${release.tree.slice(0, 12)}`,
      );
      console.log(
        `next: commit proto-releases.yaml and ${result.changelog}, then push the tag: git push origin ${release.tag}`,
      );
    },
  );

  withScope(
    proto
      .command("add")
      .description(
        "Pin a released contract in a folder, vendor it with git read-tree, lock it and regenerate code",
      )
      .argument("<dir>", "the package or family folder that vendors it")
      .argument("<pin>", "<name>@<range>, e.g. event@^1, event@~1.2, event@1.2.3, event@v1")
      .option("--no-generate", "do not run the package's generate script"),
  ).action((dir: string, spec: string, options: ScopeOptions & { generate: boolean }) => {
    for (const line of formatPinCommandResult(runAddCommand({ ...options, dir, spec }))) console.log(line);
  });

  withScope(
    proto
      .command("upgrade")
      .description("Move pins to the highest release their ranges admit, re-vendor, relock and regenerate")
      .argument("[dir]", "a folder with a proto-pins.yaml (default: all), or a contract name")
      .argument("[name]", "only this contract")
      .option("--force", "replace vendored copies even when they were edited")
      .option("--no-generate", "do not run the packages' generate scripts"),
  ).action(
    (
      target: string | undefined,
      name: string | undefined,
      options: ScopeOptions & { force?: boolean; generate: boolean },
    ) => {
      const result = runUpgradeCommand({
        ...options,
        ...(target ? { target } : {}),
        ...(name ? { name } : {}),
      });
      for (const line of formatPinCommandResult(result)) console.log(line);
    },
  );

  withScope(
    proto
      .command("vendor")
      .description("Vendor pinned contracts with git read-tree, or verify them (--check)")
      .argument("[dirs...]", "folders with a proto-pins.yaml (default: all of them)")
      .option("--check", "verify the vendored copies against their locks; change nothing")
      .option("--force", "replace vendored copies even when they were edited")
      .option("--quiet", "print only problems"),
  ).action(
    (dirs: string[], options: ScopeOptions & { check?: boolean; force?: boolean; quiet?: boolean }) => {
      // Vendoring does not depend on the prefix; --prefix is accepted (and validated) like everywhere.
      const { prefix, ...rest } = options;
      if (prefix !== undefined) assertValidPrefix(prefix, "--prefix");
      const result = runVendorCommand({ ...rest, dirs });
      process.exitCode = reportVendorResult(result, options);
    },
  );
}
