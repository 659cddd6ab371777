import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UserError } from "@flow/errors";
import { planFrom, silentLogger } from "../engine/test-support/fake-link-stream";
import { ServiceEndpoint } from "./service-endpoint";

let dir: string;
let script: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "flow-endpoint-spec-"));
  script = join(dir, "replaced.js");
  // A processor whose program is replaced between starts: its n-th start names the n-th major of
  // its second argument in its handshake (the last one from then on), counting starts in a file.
  writeFileSync(
    script,
    `const { existsSync, readFileSync, writeFileSync } = require("node:fs");
const [counter, list] = process.argv.slice(2);
const starts = existsSync(counter) ? Number(readFileSync(counter, "utf8")) : 0;
writeFileSync(counter, String(starts + 1));
const majors = list.split(",");
console.log("flow-handshake|1|processor_service|" + majors[Math.min(starts, majors.length - 1)] + "|tcp|127.0.0.1:1|grpc");
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
`,
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The endpoint of stage "enrich", written in test.yaml, whose starts name `majors` in turn; the run agreed on `agreed`. */
function endpointNaming(majors: string, agreed: number): ServiceEndpoint {
  const plan = planFrom(`
metadata: { name: t }
sources: [{ id: src, address: "127.0.0.1:1" }]
processors:
  - id: enrich
    command: ${JSON.stringify([process.execPath, script, join(dir, `starts-${majors}-${agreed}`), majors])}
    inputs: [src]
consumers: [{ id: sink, address: "127.0.0.1:2", inputs: [enrich] }]
`);
  const stage = plan.stages.find((s) => s.id === "enrich");
  if (!stage) throw new Error("no stage enrich");
  const endpoint = new ServiceEndpoint({
    stageId: stage.id,
    locator: stage.locator,
    baseDir: plan.baseDir,
    handshakeTimeoutMs: 20_000,
    restart: { maxRestarts: 3, initialDelayMs: 1, maxDelayMs: 1 },
    logger: silentLogger,
  });
  endpoint.contract = { name: "processor_service", major: agreed, version: `${agreed}.0.0` };
  return endpoint;
}

describe("a restarted spawned service and the contract major the run agreed on", () => {
  it("fails the recovery, and so the run, at once when the handshake after a restart names another major, saying which stage, both majors and what to do", async () => {
    const endpoint = endpointNaming("2,1", 2);
    const restarted: number[] = [];
    endpoint.on("restarted", (count: number) => restarted.push(count));
    try {
      await endpoint.start();
      const failure = await endpoint.recover("service exited").then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(UserError);
      const { message, hint } = failure as UserError;
      expect(message).toMatch(/^test\.yaml:\d+:\d+: stage "enrich": /);
      expect(message).toContain("handshake now names processor_service v1");
      expect(message).toContain("the run agreed on processor_service v2 with it when it started");
      expect(hint).toContain("restart the pipeline");
      expect(hint).toContain("set contractMajor on the stage");
      // Not a restart to count: the run fails on the first one, not once the limit is spent.
      expect(restarted).toEqual([]);
      expect(endpoint.restarts).toBe(1);
    } finally {
      await endpoint.stop(1000);
    }
  });

  it("goes on when the restarted service names the agreed major, or again the one it named at start", async () => {
    // The second: a service that ignores FLOW_CONTRACT_MAJORS names its own v2; Core agreed on v1.
    for (const [majors, agreed] of [
      ["2,2", 2],
      ["2,2", 1],
      ["1,2", 2],
    ] as const) {
      const endpoint = endpointNaming(majors, agreed);
      const restarted: number[] = [];
      endpoint.on("restarted", (count: number) => restarted.push(count));
      try {
        await endpoint.start();
        await endpoint.recover("service exited");
        expect(restarted).toEqual([1]);
        expect(endpoint.handshakeContract).toEqual({ name: "processor_service", major: Number(majors[2]) });
      } finally {
        await endpoint.stop(1000);
      }
    }
  });
});
