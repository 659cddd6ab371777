#!/usr/bin/env node

import { locatorFromArgument } from "@flow/core";
import { formatUserError, isUserError } from "@flow/errors";
import { formatResult, formatSummary } from "./report-lines";
import { runConformance } from "./run-conformance";

/**
 * `flow-conform <service> [--command "<program>"] [--config conform.json] [--json]`: the kit
 * without the flow CLI (`flow conform` is the same run).
 */
async function main(argv: string[]): Promise<number> {
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index] as string;
    if (arg === "--json") flags.set("json", true);
    else if (arg === "--command" || arg === "--config") flags.set(arg.slice(2), argv[++index] ?? "");
    else positional.push(arg);
  }
  const json = flags.get("json") === true;
  const locator = locatorFromArgument(
    positional[0],
    flags.get("command") as string | undefined,
    process.cwd(),
  );
  const report = await runConformance({
    locator,
    baseDir: process.cwd(),
    configPath: flags.get("config") as string | undefined,
    onResult: json ? undefined : (result) => console.log(formatResult(result)),
  });
  if (json) console.log(JSON.stringify(report, null, 2));
  else console.log(formatSummary(report));
  return report.passed ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(isUserError(error) ? formatUserError(error) : error);
    process.exit(2);
  },
);
