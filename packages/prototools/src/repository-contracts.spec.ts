import { join } from "node:path";
import { runBreakingCommand } from "./breaking-command";
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

  it("have every vendored copy matching its lock (flow proto vendor --check)", () => {
    expect(runVendorCommand({ root: ROOT, check: true }).findings).toEqual([]);
  });
});
