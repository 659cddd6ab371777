import { join } from "node:path";
import type { CheckResult } from "./check-result";
import { parseConformConfig } from "./conform-config";
import { runConformance } from "./run-conformance";

// The fixtures are built (dist/fixtures): the kit spawns them as Core spawns any service.
const fixture = join(__dirname, "..", "..", "dist", "fixtures", "broken-service.js");
const configPath = join(__dirname, "..", "..", "src", "fixtures", "fixture-conform.json");

// Each run starts the service several times and waits on real answers.
jest.setTimeout(180_000);

async function conform(family: string, flaw: string) {
  return runConformance({
    locator: { kind: "command", argv: [process.execPath, fixture, family, flaw], cwd: __dirname },
    baseDir: __dirname,
    configPath,
    // A short wait only where the handshake never comes in time anyway; elsewhere generous, for
    // a loaded machine (a handshake that comes is not waited for longer).
    handshakeTimeoutMs: flaw === "no-flush" ? 3000 : 30_000,
  });
}

const failed = (results: CheckResult[]) =>
  results.filter((result) => result.status === "fail").map((result) => result.id);

describe("flow conform against services broken one way each", () => {
  it.each(["source", "processor", "consumer"])("passes a %s that keeps every contract", async (family) => {
    const report = await conform(family, "none");
    expect(failed(report.results)).toEqual([]);
    expect(report.passed).toBe(true);
    const ids = report.results.map((result) => result.id);
    expect(ids).toEqual(
      expect.arrayContaining([
        "handshake.flushed",
        "health.watch",
        "reflection.call",
        "lifecycle.sigterm",
        "crash.mid-batch",
      ]),
    );
  });

  it.each([
    ["processor", "no-flush", ["handshake.flushed"], /not flushed/],
    ["processor", "no-health", ["health.check", "health.watch"], /does not implement grpc.health.v1/],
    ["processor", "wrong-sequence", ["data.sequence"], /answers for sequences never sent: 104/],
    ["consumer", "accepts-blindly", ["configure.invalid"], /own JSON Schema refuses/],
    ["consumer", "no-reflection", ["reflection.list"], /unimplemented/],
    ["processor", "ignores-sigterm", ["lifecycle.sigterm"], /ignores SIGTERM/],
    ["source", "wrong-checkpoint", ["crash.mid-batch", "crash.mid-commit"], /never came.*\(a gap\)/],
  ])("fails a %s with %s, for that reason", async (family, flaw, checks, reason) => {
    const report = await conform(family, flaw);
    expect(report.passed).toBe(false);
    for (const id of checks) {
      const result = report.results.find((candidate) => candidate.id === id);
      expect(result).toMatchObject({
        status: "fail",
        why: expect.stringMatching(reason),
        fix: expect.any(String),
      });
    }
  });
});

describe("the conformance config", () => {
  it("refuses an unknown field with where and how to fix", () => {
    expect(() => parseConformConfig({ confg: {} }, "conform.json")).toThrow(
      /conform.json: \/confg: unknown field/,
    );
  });

  it("fills in defaults", () => {
    const config = parseConformConfig({}, "defaults");
    expect(config).toMatchObject({ config: {}, passThrough: true, crash: true, source: { events: 40 } });
    expect(config.events.length).toBeGreaterThan(0);
  });
});
