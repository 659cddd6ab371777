import { join } from "node:path";
import { openStateStore } from "@flow/core";
import { dropSchema, uniqueTestSchema, urlWithSchema, withPostgres } from "@flow/testing";
import Database from "better-sqlite3";
import { FlowProcess, RECORDING_CONSUMER, runFlow, serviceMain } from "./test-support/flow-cli";
import { tempDir } from "./test-support/temp-dir";

const ROUNDS = 10;
const SOURCE_STARTS = /"msg":"source starts"/;

/** A pipeline that runs until interrupted, so the loser of a start always meets a live winner. */
function endlessPipeline(dir: ReturnType<typeof tempDir>, state: string): string {
  return dir.file(
    "pipeline.yaml",
    `
apiVersion: flow/v1
kind: Pipeline
metadata: { name: twins }
state: { url: ${JSON.stringify(state)} }
sources:
  - id: gen
    command: [node, ${JSON.stringify(serviceMain("@flow/source-generator"))}]
    config: { count: 100000000, rate: 100 }
consumers:
  - id: rec
    command: [node, ${JSON.stringify(RECORDING_CONSUMER)}]
    inputs: [gen]
    config: { path: ${JSON.stringify(join(dir.path, "ids.txt"))} }
`,
  );
}

/**
 * Starts two `flow run` of one pipeline at the same instant, ROUNDS times, and says per round who
 * ran: the winner runs until interrupted, the loser exits at once.
 */
async function raceRounds(dir: ReturnType<typeof tempDir>, file: string): Promise<void> {
  const never = new Promise<never>(() => {});
  for (let round = 0; round < ROUNDS; round++) {
    const twins = [0, 1].map(() => new FlowProcess(["run", file], { cwd: dir.path }));
    try {
      // Either one of them exits (the loser), or both get as far as starting the source: both ran.
      const first = await Promise.race([
        ...twins.map((twin) => twin.wait().then(() => twin)),
        Promise.all(twins.map((twin) => twin.waitForLog(SOURCE_STARTS).catch(() => never))).then(
          () => "both ran" as const,
        ),
      ]);
      expect({ round, outcome: first === "both ran" ? first : "one ran" }).toEqual({
        round,
        outcome: "one ran",
      });
      const loser = first as FlowProcess;
      const winner = twins.find((twin) => twin !== loser) as FlowProcess;
      const lost = await loser.wait();
      expect({ round, code: lost.code }).toEqual({ round, code: 2 });
      expect(lost.stderr).toMatch(
        /error: cannot start another run of it: pipeline "twins" is running \(run [\w-]+, pid \d+ on [^,]+, started [^)]+\)/,
      );
      expect(lost.stderr).toMatch(/hint: stop that run first \(Ctrl-C in its terminal, or kill -INT \d+ on /);
      expect(lost.stderr).not.toMatch(/\n\s+at /);
      await winner.waitForLog(SOURCE_STARTS);
      winner.kill("SIGINT");
      expect({ round, code: (await winner.wait()).code }).toEqual({ round, code: 130 });
    } finally {
      for (const twin of twins) twin.kill("SIGKILL");
      await Promise.all(twins.map((twin) => twin.wait()));
    }
  }
  // Every round left exactly one run behind, the winner's, stopped by the interrupt.
  const status = await runFlow(["status", "-f", file, "--json", "-n", String(3 * ROUNDS)], { cwd: dir.path });
  expect(status.code).toBe(0);
  const runs = (JSON.parse(status.stdout) as { runs: { status: string }[] }).runs;
  expect(runs.map((run) => run.status)).toEqual(Array(ROUNDS).fill("stopped"));
}

describe("two flow run of one pipeline started in the same instant", () => {
  describe("on SQLite state", () => {
    const dir = tempDir("twins-sqlite");
    afterAll(() => dir.remove());

    it(`lets exactly one run, ${ROUNDS} rounds out of ${ROUNDS}; the other exits 2 naming the live run`, async () => {
      await raceRounds(dir, endlessPipeline(dir, "sqlite:.flow/state.db"));
    }, 180_000);
  });

  describe("on PostgreSQL state", () => {
    withPostgres((serverUrl) => {
      const dir = tempDir("twins-postgres");
      const schema = uniqueTestSchema("flow_e2e_twins");
      afterAll(async () => {
        dir.remove();
        await dropSchema(serverUrl, schema);
      });

      it(`lets exactly one run, ${ROUNDS} rounds out of ${ROUNDS}; the other exits 2 naming the live run`, async () => {
        await raceRounds(dir, endlessPipeline(dir, urlWithSchema(serverUrl, schema)));
      }, 180_000);
    });
  });
});

describe("flow status on a damaged state file", () => {
  const dir = tempDir("damaged-state");
  afterAll(() => dir.remove());

  it("exits 2 with what is missing, the file and what to do, without a stack trace", async () => {
    const file = join(dir.path, "state.db");
    // A store as a run leaves it (flow status never creates one to read it).
    await (await openStateStore(`sqlite:${file}`, { baseDir: dir.path })).close();
    const db = new Database(file);
    db.exec("DROP TABLE runs");
    db.close();
    for (const args of [["status"], ["checkpoints", "list"]]) {
      const result = await runFlow([...args, "--state", `sqlite:${file}`], { cwd: dir.path });
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toContain(`error: the state store at ${file} is damaged: table runs is missing`);
      expect(result.stderr).toContain(`hint: restore ${file} from a backup`);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
