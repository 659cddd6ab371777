import { execFileSync, spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { runBreakingCommand } from "./breaking-command";
import { bufExecutable } from "./buf-cli";
import { formatLintFinding } from "./contract-lint";
import { runLintCommand } from "./lint-command";
import { runVendorCommand } from "./vendor-command";

// CI runs every package's tests, so this is where `flow proto lint` and `flow proto breaking`
// run on this repository's own contracts: a convention finding or an unreleased breaking change
// fails the build, with the same lines the commands print.
const ROOT = join(__dirname, "..", "..", "..");

describe("this repository's contracts", () => {
  it("follow the conventions (flow proto lint)", () => {
    const report = runLintCommand({ root: ROOT });
    expect([...report.unparsable, ...report.findings].map(formatLintFinding)).toEqual([]);
    expect(report.files.length).toBeGreaterThan(0);
  });

  it("break no release (flow proto breaking)", () => {
    const { comparisons } = runBreakingCommand({ root: ROOT });
    const breaking = comparisons.flatMap(({ changes }) =>
      changes.map(
        (change) => `${change.file}:${change.line}:${change.col}: ${change.rule}: ${change.message}`,
      ),
    );
    expect(breaking).toEqual([]);
    expect(comparisons.map((comparison) => comparison.folder.name)).toEqual(
      expect.arrayContaining([
        "event",
        "component",
        "checkpoint",
        "source_service",
        "processor_service",
        "consumer_service",
      ]),
    );
  });

  it("pass buf lint under each proto root's committed buf.yaml", () => {
    const configs = execFileSync("git", ["ls-files", "--", "*buf.yaml"], { cwd: ROOT, encoding: "utf8" })
      .split("\n")
      .filter((line) => line.endsWith("/buf.yaml"));
    expect(configs.length).toBeGreaterThanOrEqual(5);
    // The committed buf.yaml, not flow's inline configuration: this checks the configuration itself.
    const { command, prefix } = bufExecutable();
    const failures = configs.flatMap((config) => {
      const lint = spawnSync(command, [...prefix, "lint"], {
        cwd: join(ROOT, dirname(config)),
        encoding: "utf8",
      });
      return lint.status === 0 ? [] : [`${dirname(config)}: ${lint.stdout}${lint.stderr}`];
    });
    expect(failures).toEqual([]);
  });

  it("have every vendored copy matching its lock (flow proto vendor --check)", () => {
    expect(runVendorCommand({ root: ROOT, check: true }).findings).toEqual([]);
  });
});
