import { join } from "node:path";
import type { CheckResult } from "./check-result";
import { parseConformConfig } from "./conform-config";
import { runConformance } from "./run-conformance";

// The fixtures are built (dist/fixtures): the kit spawns them as Core spawns any service.
const fixture = join(__dirname, "..", "..", "dist", "fixtures", "broken-service.js");
const fixtureConfig = (name: string) => join(__dirname, "..", "..", "src", "fixtures", name);
const configPath = fixtureConfig("fixture-conform.json");

// Each run starts the service several times and waits on real answers.
jest.setTimeout(180_000);

async function conform(family: string, flaw: string, config = configPath) {
  return runConformance({
    locator: { kind: "command", argv: [process.execPath, fixture, family, flaw], cwd: __dirname },
    baseDir: __dirname,
    configPath: config,
    // A short wait only where the handshake never comes in time anyway; elsewhere generous, for
    // a loaded machine (a handshake that comes is not waited for longer).
    handshakeTimeoutMs: flaw === "no-flush" ? 3000 : 30_000,
  });
}

/**
 * Whether the fixture's SDK does not say features.direct_path at v2 (the SDK half of the direct
 * data path not built yet): the kit's one line saying its checks do not apply.
 */
function sdkSkipsDirectPath(results: CheckResult[]): boolean {
  const line = results.find((result) => result.id === "direct" && result.major === 2);
  if (line)
    expect(line).toMatchObject({
      status: "skip",
      why: expect.stringMatching(/does not say features.direct_path/),
    });
  return line !== undefined;
}

/** A result as its report line names it: `processor_service v2: data.intact`, `health.check`. */
const named = (result: CheckResult) =>
  result.contract !== undefined ? `${result.contract} v${result.major}: ${result.id}` : result.id;

const failed = (results: CheckResult[]) => results.filter((result) => result.status === "fail").map(named);

describe("flow conform against services broken one way each", () => {
  it.each(["source", "processor", "consumer"])(
    "passes a %s that keeps every contract, at v1 and at v2",
    async (family) => {
      const report = await conform(family, "none");
      expect(failed(report.results)).toEqual([]);
      const names = report.results.map(named);
      const contract = `${family}_service`;
      expect(names).toEqual(
        expect.arrayContaining([
          "handshake.flushed",
          "handshake.contract",
          "health.watch",
          "lifecycle.stdin",
          "lifecycle.sigterm",
          ...[1, 2].flatMap((major) => [
            `${contract} v${major}: describe.contract`,
            `${contract} v${major}: configure.valid`,
            `${contract} v${major}: reflection.call`,
            `${contract} v${major}: data.sequence`,
            `${contract} v${major}: crash.mid-batch`,
          ]),
        ]),
      );
      if (family !== "source") expect(names).toContain(`${contract} v2: data.kinds`);
      // Bundles (v2.2): the SDK reads them, so a processor's and a consumer's are checked at v2.
      if (family === "source") expect(names).toContain(`${contract} v2: bundles`);
      else
        expect(names).toEqual(
          expect.arrayContaining([
            `${contract} v2: bundles.read`,
            `${contract} v2: bundles.unasked`,
            `${contract} v2: bundles.ingest`,
          ]),
        );
      expect(
        report.results.filter((result) => result.id.startsWith("bundles") && result.major === 1),
      ).toEqual([]);
      // The direct data path's checks, where the SDK the fixture is built on says direct_path.
      if (sdkSkipsDirectPath(report.results)) return;
      const direct = {
        source: ["direct.peers"],
        processor: ["direct.ingest", "direct.ref", "direct.ref-missing", "direct.peers"],
        consumer: ["direct.ingest", "direct.ref", "direct.ref-missing", "direct.returned"],
      }[family] as string[];
      expect(names).toEqual(expect.arrayContaining(direct.map((id) => `${contract} v2: ${id}`)));
      // v1 has no direct data path: not a line for it.
      expect(report.results.filter((result) => result.id.startsWith("direct") && result.major === 1)).toEqual(
        [],
      );
      expect(report.results.find((result) => result.id === "handshake.contract")?.why).toMatch(
        new RegExp(`^${contract} v2, the highest major both`),
      );
    },
  );

  it.each(["source", "processor"])(
    "passes a %s serving v1 alone (built before v2, as the Python examples), with v1's checks alone",
    async (family) => {
      const report = await conform(family, "v1-only");
      expect(failed(report.results)).toEqual([]);
      expect(report.passed).toBe(true);
      expect(report.results.filter((result) => result.major !== undefined && result.major !== 1)).toEqual([]);
      expect(report.results.find((result) => result.id === "contract.majors")?.why).toMatch(
        new RegExp(`^serves ${family}_service v1, of the v1, v2 the kit speaks`),
      );
      // Nothing is skipped for the major it does not serve.
      expect(
        report.results.filter((result) => result.status === "skip" && result.id !== "data.dead-letters"),
      ).toEqual([]);
    },
  );

  it("fails a processor whose v2 answers drop the attributes at v2's data.intact, and passes its v1", async () => {
    const report = await conform("processor", "v2-drops-attributes");
    const intact = (major: number) =>
      report.results.find((result) => result.id === "data.intact" && result.major === major);
    expect(intact(1)?.status).toBe("pass");
    expect(intact(2)).toMatchObject({
      status: "fail",
      why: expect.stringMatching(/attribute time dropped; attribute datacontenttype dropped; .*\(10\)/),
      fix: expect.stringContaining("every attribute with its type"),
    });
    expect(failed(report.results)).toEqual([
      "processor_service v2: data.intact",
      "processor_service v2: data.kinds",
    ]);
  });

  it("fails a processor that says direct_path but ignores InputBatch.ref at v2's direct.ref, and passes the rest", async () => {
    const report = await conform("processor", "direct-ignores-ref");
    if (sdkSkipsDirectPath(report.results)) return;
    const direct = (id: string) => report.results.find((result) => result.id === id && result.major === 2);
    expect(direct("direct.ingest")?.status).toBe("pass");
    expect(direct("direct.ref")).toMatchObject({
      status: "fail",
      why: expect.stringMatching(
        /named by ref \(its bytes pushed first, 302\) was answered otherwise than in `batch` \(301\): 0 event\(s\) out, 1 for the batch in `batch`/,
      ),
      fix: expect.stringContaining("read a batch whose `ref` is set from what Ingest took"),
    });
    expect(direct("direct.ref-missing")).toMatchObject({
      status: "fail",
      why: expect.stringMatching(/without ref_missing/),
    });
    expect(failed(report.results)).toEqual([
      "processor_service v2: direct.ref",
      "processor_service v2: direct.ref-missing",
    ]);
  });

  it("passes a consumer that refuses bad events, named by ref too, and returns them", async () => {
    const report = await conform("consumer", "none", fixtureConfig("fixture-bad-events-conform.json"));
    expect(failed(report.results)).toEqual([]);
    const passed = (id: string, major: number) =>
      report.results.find((result) => result.id === id && result.major === major)?.status;
    expect([passed("data.dead-letters", 1), passed("data.dead-letters", 2)]).toEqual(["pass", "pass"]);
    if (sdkSkipsDirectPath(report.results)) return;
    expect(report.results.find((result) => result.id === "direct.returned")).toMatchObject({
      status: "pass",
      major: 2,
      why: expect.stringMatching(/PERMANENT_FAILURE .*their 1 event\(s\) returned as they came/),
    });
  });

  it.each(["consumer", "source"])(
    "says in one line that the direct data path checks do not apply to a %s without direct_path",
    async (family) => {
      const report = await conform(family, "no-direct-path");
      expect(failed(report.results)).toEqual([]);
      const lines = report.results.filter((result) => result.id.startsWith("direct"));
      expect(lines).toEqual([
        expect.objectContaining({
          id: "direct",
          status: "skip",
          major: 2,
          why: `Describe at ${family}_service v2 does not say features.direct_path: the direct data path checks do not apply`,
        }),
      ]);
    },
  );

  it.each([
    ["processor", "no-flush", ["handshake.flushed"], /not flushed/],
    ["processor", "no-health", ["health.check", "health.watch"], /does not implement grpc.health.v1/],
    ["processor", "wrong-sequence", ["data.sequence"], /answers for sequences never sent: 104/],
    ["consumer", "accepts-blindly", ["configure.invalid"], /own JSON Schema refuses/],
    ["consumer", "no-reflection", ["reflection.list"], /unimplemented/],
    ["processor", "ignores-sigterm", ["lifecycle.sigterm"], /ignores SIGTERM/],
    ["source", "wrong-checkpoint", ["crash.mid-batch", "crash.mid-commit"], /never came.*\(a gap\)/],
    [
      "source",
      "exhausts-early",
      ["data.events", "crash.mid-batch", "crash.mid-commit"],
      /^(read 5 of the 40 events of the scenario \(1 batches, then exhausted after batch 1\)|the source sent 1 batch\(es\), then said it was exhausted after batch 1, before the kill point)/,
    ],
    ["consumer", "handshake-lower-major", ["handshake.contract"], /the highest major both speak is v2/],
  ])("fails a %s with %s, for that reason", async (family, flaw, checks, reason) => {
    const report = await conform(family, flaw);
    expect(report.passed).toBe(false);
    for (const id of checks) {
      const result = report.results.find((candidate) => candidate.id === id);
      expect(result).toMatchObject({
        status: "fail",
        why: expect.stringMatching(reason),
        fix: flaw === "exhausts-early" ? expect.stringContaining("must wait for more") : expect.any(String),
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
