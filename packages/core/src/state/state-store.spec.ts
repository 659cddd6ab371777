import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { UserError } from "@flow/errors";
import { dropSchema, uniqueTestSchema, urlWithSchema, withPostgres } from "@flow/testing";
import Database from "better-sqlite3";
import pg from "pg";
import type { ClaimRaceReport, ClaimRaceWork } from "../test-support/claim-race-worker";
import { type ManualClock, manualClock } from "../test-support/manual-clock";
import { runTypeScriptWorker } from "../test-support/typescript-worker";
import { openStateStore } from "./open-state-store";
import { isRunAbandoned, RUN_STALE_AFTER_MS, RunAlreadyLiveError } from "./run-liveness";
import { DEFAULT_SERVICE_TTL_SECONDS, type StageStats, type StateStore } from "./state-store";
import { ClaimLostError } from "./store-errors";

/** What the contract suite needs from a backend; everything else it learns through the StateStore interface. */
interface StoreTarget {
  name: string;
  /** Registers the suite when the backend can run (PostgreSQL may be absent; see withPostgres). */
  whenAvailable(body: () => void): void;
  setUp(): Promise<void>;
  tearDown(): Promise<void>;
  /** What relative sqlite: paths resolve against. */
  baseDir(): string;
  /** A URL to an empty store of its own, for one test. */
  freshUrl(): Promise<string>;
  /** Records, behind Flow's back, a schema version newer than this Flow knows. */
  claimNewerSchema(url: string): Promise<void>;
}

function sqliteTarget(): StoreTarget {
  let dir = "";
  let count = 0;
  return {
    name: "sqlite",
    whenAvailable: (body) => body(),
    setUp: async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "flow-state-spec-"));
    },
    tearDown: async () => fs.rmSync(dir, { recursive: true, force: true }),
    baseDir: () => dir,
    // Relative on purpose: the store must resolve it against baseDir and create the folder.
    freshUrl: async () => `sqlite:stores/state-${++count}.db`,
    claimNewerSchema: async (url) => {
      const db = new Database(path.resolve(dir, url.slice("sqlite:".length)));
      db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'future', 0)").run();
      db.close();
    },
  };
}

function postgresTarget(): StoreTarget {
  let serverUrl = "";
  const schema = uniqueTestSchema("flow_state_spec");
  return {
    name: "postgres",
    whenAvailable: (body) =>
      withPostgres((url) => {
        serverUrl = url;
        body();
      }),
    setUp: async () => {},
    tearDown: async () => dropSchema(serverUrl, schema),
    baseDir: () => os.tmpdir(),
    // One schema for the whole file, emptied by dropping it: the store recreates it on open.
    freshUrl: async () => {
      await dropSchema(serverUrl, schema);
      return urlWithSchema(serverUrl, schema);
    },
    claimNewerSchema: async () => {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(
        `INSERT INTO "${schema}".schema_migrations (version, name, applied_at) VALUES (99, 'future', now())`,
      );
      await client.end();
    },
  };
}

const bytes = (...values: number[]) => Uint8Array.from(values);

/** A pid that surely belongs to no process: one of a child that has already exited. */
const deadPid = () => spawnSync(process.execPath, ["-e", ""]).pid;

function stage(stageId: string, overrides: Partial<StageStats> = {}): StageStats {
  return {
    stageId,
    eventsIn: 0,
    eventsOut: 0,
    deadLetters: 0,
    restarts: 0,
    errors: 0,
    health: "unknown",
    ...overrides,
  };
}

describe.each([sqliteTarget(), postgresTarget()])("$name state store", (target) => {
  target.whenAvailable(() => {
    let url: string;
    let clock: ManualClock;
    let store: StateStore;
    const extraStores: StateStore[] = [];

    /** The running run of `pipeline` in this test, started on first use: only it may commit the pipeline's checkpoints. */
    const claimed = new Map<string, Promise<string>>();
    const runOf = (pipeline: string): Promise<string> => {
      let runId = claimed.get(pipeline);
      if (!runId) {
        runId = store.startRun(pipeline, `${pipeline}.yaml`);
        claimed.set(pipeline, runId);
      }
      return runId;
    };

    const open = async () => {
      const opened = await openStateStore(url, { baseDir: target.baseDir(), clock: clock.now });
      extraStores.push(opened);
      return opened;
    };

    beforeAll(() => target.setUp());
    afterAll(() => target.tearDown());

    beforeEach(async () => {
      clock = manualClock();
      url = await target.freshUrl();
      store = await openStateStore(url, { baseDir: target.baseDir(), clock: clock.now });
    });

    afterEach(async () => {
      claimed.clear();
      await store.close();
      for (const extra of extraStores.splice(0)) await extra.close();
    });

    it("says which kind of store it is", () => {
      expect(store.kind).toBe(target.name);
    });

    describe("checkpoints", () => {
      it("has none before the first commit", async () => {
        expect(await store.getCheckpoint("orders", "file")).toBeUndefined();
        expect(await store.listCheckpoints()).toEqual([]);
      });

      it("stores position bytes, description, the committing run and the time", async () => {
        const runId = await runOf("orders");
        const result = await store.commitCheckpoint({
          pipeline: "orders",
          sourceId: "file",
          position: bytes(0, 1, 254, 255),
          description: "offset 4",
          runId,
          sequence: 7,
        });
        const expected = {
          pipeline: "orders",
          sourceId: "file",
          position: bytes(0, 1, 254, 255),
          description: "offset 4",
          runId,
          sequence: 7,
          committedAt: clock.now(),
        };
        expect(result.committed).toBe(true);
        expect({ ...result.checkpoint, position: Uint8Array.from(result.checkpoint.position) }).toEqual(
          expected,
        );
        const stored = await store.getCheckpoint("orders", "file");
        expect(stored && { ...stored, position: Uint8Array.from(stored.position) }).toEqual(expected);
      });

      it("keeps an empty position", async () => {
        await store.commitCheckpoint({
          pipeline: "p",
          sourceId: "s",
          position: bytes(),
          description: "start",
          runId: await runOf("p"),
          sequence: 0,
        });
        expect((await store.getCheckpoint("p", "s"))?.position).toHaveLength(0);
      });

      it("never moves back within a run: a lower or equal sequence is refused", async () => {
        const commit = { pipeline: "p", sourceId: "s", runId: await runOf("p") };
        await store.commitCheckpoint({ ...commit, position: bytes(5), description: "at 5", sequence: 5 });
        clock.advance(1000);
        const older = await store.commitCheckpoint({
          ...commit,
          position: bytes(3),
          description: "at 3",
          sequence: 3,
        });
        const same = await store.commitCheckpoint({
          ...commit,
          position: bytes(9),
          description: "again",
          sequence: 5,
        });
        expect(older.committed).toBe(false);
        expect(same.committed).toBe(false);
        expect(older.checkpoint.description).toBe("at 5");
        const stored = await store.getCheckpoint("p", "s");
        expect(stored?.sequence).toBe(5);
        expect(Buffer.from(stored?.position ?? [])).toEqual(Buffer.from([5]));
        expect(stored?.committedAt).toEqual(new Date(clock.now().getTime() - 1000));

        const newer = await store.commitCheckpoint({
          ...commit,
          position: bytes(6),
          description: "at 6",
          sequence: 6,
        });
        expect(newer.committed).toBe(true);
        expect(newer.checkpoint.committedAt).toEqual(clock.now());
      });

      it("lets a later run replace the checkpoint whatever its sequence (batch numbers restart per run)", async () => {
        const commit = { pipeline: "p", sourceId: "s", position: bytes(1) };
        const run1 = await store.startRun("p", "p.yaml");
        await store.commitCheckpoint({ ...commit, description: "run 1", runId: run1, sequence: 40 });
        await store.finishRun(run1, "stopped");
        const run2 = await store.startRun("p", "p.yaml");
        const result = await store.commitCheckpoint({
          ...commit,
          description: "run 2",
          runId: run2,
          sequence: 1,
        });
        expect(result.committed).toBe(true);
        expect(await store.getCheckpoint("p", "s")).toMatchObject({
          runId: run2,
          sequence: 1,
          description: "run 2",
        });
      });

      it("lists by pipeline then source, all or of one pipeline", async () => {
        for (const [pipeline, sourceId] of [
          ["b", "x"],
          ["a", "z"],
          ["a", "y"],
        ] as const) {
          await store.commitCheckpoint({
            pipeline,
            sourceId,
            position: bytes(1),
            description: "",
            runId: await runOf(pipeline),
            sequence: 1,
          });
        }
        const all = await store.listCheckpoints();
        expect(all.map((c) => `${c.pipeline}/${c.sourceId}`)).toEqual(["a/y", "a/z", "b/x"]);
        const ofA = await store.listCheckpoints("a");
        expect(ofA.map((c) => c.sourceId)).toEqual(["y", "z"]);
      });

      it("resets one source, or every source of a pipeline, and leaves other pipelines alone", async () => {
        for (const [pipeline, sourceId] of [
          ["a", "s1"],
          ["a", "s2"],
          ["a", "s3"],
          ["b", "s1"],
        ] as const) {
          await store.commitCheckpoint({
            pipeline,
            sourceId,
            position: bytes(1),
            description: "",
            runId: await runOf(pipeline),
            sequence: 1,
          });
        }
        expect(await store.resetCheckpoints("a", "s2")).toBe(1);
        expect((await store.listCheckpoints("a")).map((c) => c.sourceId)).toEqual(["s1", "s3"]);
        expect(await store.resetCheckpoints("a", "missing")).toBe(0);
        expect(await store.resetCheckpoints("a")).toBe(2);
        expect(await store.listCheckpoints("a")).toEqual([]);
        expect((await store.listCheckpoints()).map((c) => `${c.pipeline}/${c.sourceId}`)).toEqual(["b/s1"]);
      });

      it("rejects a commit without a usable sequence", async () => {
        await expect(
          store.commitCheckpoint({
            pipeline: "p",
            sourceId: "s",
            position: bytes(),
            description: "",
            runId: await runOf("p"),
            sequence: -1,
          }),
        ).rejects.toThrow(RangeError);
      });
    });

    describe("run history", () => {
      it("records a started run as running, with its process, host and heartbeat", async () => {
        const runId = await store.startRun("orders", "/pipelines/orders.yaml");
        expect(await store.getRun(runId)).toEqual({
          runId,
          pipeline: "orders",
          pipelineFile: "/pipelines/orders.yaml",
          status: "running",
          startedAt: clock.now(),
          endedAt: undefined,
          error: undefined,
          pid: process.pid,
          host: os.hostname(),
          heartbeatAt: clock.now(),
          supersededBy: undefined,
          stages: [],
        });
        expect(await store.getRun("no-such-run")).toBeUndefined();
      });

      it("saves stage totals, replacing the previous ones, in the order stages were first saved", async () => {
        const runId = await store.startRun("p", "p.yaml");
        clock.advance(5000);
        await store.saveStageStats(runId, [
          stage("source", { eventsOut: 10 }),
          stage("sink", { eventsIn: 8 }),
        ]);
        clock.advance(5000);
        await store.saveStageStats(runId, [
          stage("sink", { eventsIn: 20, errors: 1, health: "serving" }),
          stage("filter", {
            eventsIn: 20,
            eventsOut: 15,
            deadLetters: 5,
            restarts: 2,
            health: "not_serving",
          }),
          stage("source", { eventsOut: 20, health: "serving" }),
        ]);
        const run = await store.getRun(runId);
        expect(run?.heartbeatAt).toEqual(clock.now());
        expect(run?.stages).toEqual([
          { ...stage("source", { eventsOut: 20, health: "serving" }), updatedAt: clock.now() },
          { ...stage("sink", { eventsIn: 20, errors: 1, health: "serving" }), updatedAt: clock.now() },
          {
            ...stage("filter", {
              eventsIn: 20,
              eventsOut: 15,
              deadLetters: 5,
              restarts: 2,
              health: "not_serving",
            }),
            updatedAt: clock.now(),
          },
        ]);
      });

      it("keeps the contract major each stage spoke, through saves that do not know it yet", async () => {
        const runId = await store.startRun("p", "p.yaml");
        await store.saveStageStats(runId, [stage("source"), stage("sink")]);
        await store.saveStageStats(runId, [
          stage("source", { contractMajor: 1 }),
          stage("sink", { contractMajor: 2, eventsIn: 3 }),
        ]);
        await store.saveStageStats(runId, [
          stage("source", { eventsOut: 3 }),
          stage("sink", { eventsIn: 4 }),
        ]);
        const stages = (await store.getRun(runId))?.stages.map(({ updatedAt: _at, ...rest }) => rest);
        expect(stages).toEqual([
          stage("source", { eventsOut: 3, contractMajor: 1 }),
          stage("sink", { eventsIn: 4, contractMajor: 2 }),
        ]);
        expect((await store.listRuns({ pipeline: "p" }))[0]?.stages.map((s) => s.contractMajor)).toEqual([
          1, 2,
        ]);
        await expect(store.saveStageStats(runId, [stage("sink", { contractMajor: 0 })])).rejects.toThrow(
          'stage "sink" contractMajor must be a whole number >= 1, got 0',
        );
      });

      it("takes heartbeats, and refuses unknown run ids", async () => {
        const runId = await store.startRun("p", "p.yaml");
        clock.advance(7000);
        await store.heartbeatRun(runId);
        expect((await store.getRun(runId))?.heartbeatAt).toEqual(clock.now());
        await expect(store.heartbeatRun("nope")).rejects.toThrow('unknown run id "nope"');
        await expect(store.saveStageStats("nope", [stage("s")])).rejects.toThrow('unknown run id "nope"');
      });

      it("finishes a run once, with its status and error", async () => {
        const ok = await store.startRun("p", "p.yaml");
        const bad = await store.startRun("q", "q.yaml");
        clock.advance(60_000);
        await store.finishRun(ok, "succeeded");
        await store.finishRun(bad, "failed", "consumer sink: disk full");
        expect(await store.getRun(ok)).toMatchObject({
          status: "succeeded",
          endedAt: clock.now(),
          error: undefined,
        });
        expect(await store.getRun(bad)).toMatchObject({
          status: "failed",
          error: "consumer sink: disk full",
        });
        await expect(store.finishRun(ok, "stopped")).rejects.toThrow('already ended with status "succeeded"');
        await expect(store.finishRun("nope", "stopped")).rejects.toThrow('unknown run id "nope"');
        // Stats saved after the end (a final flush) are kept, but do not pretend the run is alive.
        await store.saveStageStats(ok, [stage("s", { eventsIn: 3 })]);
        const finished = await store.getRun(ok);
        expect(finished?.stages.map((s) => s.eventsIn)).toEqual([3]);
        expect(finished?.heartbeatAt).toEqual(clock.now());
      });

      it("lists runs newest first, of one pipeline or all, up to a limit", async () => {
        const ids: string[] = [];
        for (const pipeline of ["a", "b", "a", "a"]) {
          ids.push(await store.startRun(pipeline, `${pipeline}.yaml`));
          await store.finishRun(ids.at(-1) as string, "succeeded");
          clock.advance(1000);
        }
        await store.saveStageStats(ids[0] as string, [stage("s", { eventsIn: 1 })]);
        const all = await store.listRuns();
        expect(all.map((r) => r.runId)).toEqual([...ids].reverse());
        expect(all[3]?.stages.map((s) => s.eventsIn)).toEqual([1]);
        const ofA = await store.listRuns({ pipeline: "a", limit: 2 });
        expect(ofA.map((r) => r.runId)).toEqual([ids[3], ids[2]]);
        expect(await store.listRuns({ pipeline: "none" })).toEqual([]);
      });

      it("exposes what tells a run abandoned by a killed process from a live one", async () => {
        const dead = deadPid();
        const live = await store.startRun("p1", "p.yaml");
        const killed = await store.startRun("p2", "p.yaml", { pid: dead });
        const elsewhere = await store.startRun("p3", "p.yaml", { pid: 1234, host: "other-host" });
        const stored = async (runId: string) => {
          const run = await store.getRun(runId);
          if (!run) throw new Error(`run ${runId} missing`);
          return run;
        };
        const liveRun = await stored(live);
        const killedRun = await stored(killed);
        const elsewhereRun = await stored(elsewhere);
        expect(killedRun).toMatchObject({ pid: dead, host: os.hostname(), status: "running" });
        expect(elsewhereRun).toMatchObject({ pid: 1234, host: "other-host" });

        const now = clock.now();
        expect(isRunAbandoned(liveRun, { now })).toBe(false);
        expect(isRunAbandoned(killedRun, { now })).toBe(true);
        // Another host's pid can't be checked from here: only a silent heartbeat gives it away.
        expect(isRunAbandoned(elsewhereRun, { now })).toBe(false);
        clock.advance(10 * 60_000);
        expect(isRunAbandoned(elsewhereRun, { now: clock.now() })).toBe(true);
      });
    });

    describe("claiming a pipeline, and fencing", () => {
      const commitAs = (s: StateStore, runId: string, sequence: number) =>
        s.commitCheckpoint({
          pipeline: "p",
          sourceId: "s",
          position: bytes(sequence),
          description: `#${sequence}`,
          runId,
          sequence,
        });

      it("lets one run at a time hold a pipeline: a second start gets RunAlreadyLiveError naming the live run", async () => {
        const first = await store.startRun("p", "p.yaml");
        const second = store.startRun("p", "p.yaml");
        await expect(second).rejects.toThrow(RunAlreadyLiveError);
        await expect(second).rejects.toThrow(
          `cannot start another run of it: pipeline "p" is running (run ${first}, pid ${process.pid} on ${os.hostname()}, started ${clock.now().toISOString()})`,
        );
        const error = (await second.catch((e: unknown) => e)) as RunAlreadyLiveError;
        expect(error.hint).toMatch(new RegExp(`kill -INT ${process.pid} on `));
        expect(error.run.runId).toBe(first);
        // Another pipeline is not in the way, and once the first run ends the pipeline is free.
        await store.startRun("other", "other.yaml");
        await store.finishRun(first, "stopped");
        const third = await store.startRun("p", "p.yaml");
        expect((await store.listRuns({ pipeline: "p" })).map((r) => [r.runId, r.status])).toEqual([
          [third, "running"],
          [first, "stopped"],
        ]);
      });

      it("takes a pipeline over from a run whose process is gone, closes that run, and refuses its writes", async () => {
        const old = await store.startRun("p", "p.yaml", { pid: deadPid() });
        await commitAs(store, old, 1);
        const newer = await store.startRun("p", "p.yaml");
        expect(await store.getRun(old)).toMatchObject({
          status: "failed",
          supersededBy: newer,
          endedAt: clock.now(),
          error: expect.stringMatching(
            new RegExp(`^abandoned: process \\d+ on .+ is gone; run ${newer} took the pipeline over$`),
          ),
        });

        const fenced = commitAs(store, old, 2);
        await expect(fenced).rejects.toThrow(ClaimLostError);
        await expect(fenced).rejects.toThrow(
          `run ${old} no longer holds pipeline "p": run ${newer} took the pipeline over because this run looked abandoned`,
        );
        const lost = (await fenced.catch((e: unknown) => e)) as ClaimLostError;
        expect(lost).toMatchObject({ runId: old, pipeline: "p", supersededBy: newer });
        expect(await store.getCheckpoint("p", "s")).toMatchObject({ runId: old, sequence: 1 });
        // Nothing else of the fenced-out run is written either.
        await expect(store.heartbeatRun(old)).rejects.toThrow(ClaimLostError);
        await expect(store.saveStageStats(old, [stage("s", { eventsIn: 9 })])).rejects.toThrow(
          ClaimLostError,
        );
        await expect(store.finishRun(old, "succeeded")).rejects.toThrow(ClaimLostError);
        expect(await store.getRun(old)).toMatchObject({ status: "failed", stages: [] });

        expect((await commitAs(store, newer, 1)).committed).toBe(true);
        expect(await store.getCheckpoint("p", "s")).toMatchObject({ runId: newer, sequence: 1 });
      });

      it("takes a pipeline over from a run silent for longer than RUN_STALE_AFTER_MS, not sooner", async () => {
        const old = await store.startRun("p", "p.yaml", { pid: 4242, host: "other-host" });
        clock.advance(RUN_STALE_AFTER_MS);
        await expect(store.startRun("p", "p.yaml")).rejects.toThrow(RunAlreadyLiveError);
        await store.heartbeatRun(old);
        clock.advance(RUN_STALE_AFTER_MS + 1);
        const newer = await store.startRun("p", "p.yaml");
        expect(await store.getRun(old)).toMatchObject({
          status: "failed",
          supersededBy: newer,
          error: `abandoned: no heartbeat for 30 s; run ${newer} took the pipeline over`,
        });
        await expect(commitAs(store, old, 1)).rejects.toThrow(ClaimLostError);
      });

      it("refuses commits of a run that ended, of an unknown run and of another pipeline's run", async () => {
        const ended = await store.startRun("p", "p.yaml");
        await store.finishRun(ended, "stopped");
        await expect(commitAs(store, ended, 1)).rejects.toThrow(
          `run ${ended} no longer holds pipeline "p": the run already ended with status "stopped"; nothing was written`,
        );
        await expect(commitAs(store, "no-such-run", 1)).rejects.toThrow(
          'run no-such-run no longer holds pipeline "p": there is no such run',
        );
        const elsewhere = await store.startRun("q", "q.yaml");
        await expect(commitAs(store, elsewhere, 1)).rejects.toThrow('it is a run of pipeline "q"');
        expect(await store.getCheckpoint("p", "s")).toBeUndefined();
      });

      it("gives each pipeline to exactly one of many claims made at the same moment from separate connections", async () => {
        const workers = 6;
        const rounds = 15;
        const startLines = new SharedArrayBuffer(4 * (rounds + 1));
        const pipelinePrefix = `race-${randomUUID()}`;
        const reports = await Promise.all(
          Array.from({ length: workers }, () =>
            runTypeScriptWorker<ClaimRaceReport>(
              path.join(__dirname, "../test-support/claim-race-worker.ts"),
              {
                url,
                baseDir: target.baseDir(),
                workers,
                rounds,
                pipelinePrefix,
                startLines,
              } satisfies ClaimRaceWork,
            ),
          ),
        );
        for (let round = 0; round < rounds; round++) {
          const winners = reports.map((report) => report[round]).filter((runId) => runId !== null);
          expect({ round, winners: winners.length }).toEqual({ round, winners: 1 });
          const runs = await store.listRuns({ pipeline: `${pipelinePrefix}-${round}` });
          expect(runs.map((r) => [r.runId, r.status])).toEqual([[winners[0], "running"]]);
        }
      });

      it("never lets a run that is being taken over commit after the newcomer's claim", async () => {
        for (let round = 0; round < 5; round++) {
          const a = await open();
          const b = await open();
          const pipeline = `takeover-${round}`;
          const old = await a.startRun(pipeline, "p.yaml");
          clock.advance(RUN_STALE_AFTER_MS + 1);
          let lastCommitted = 0;
          let stopped: unknown;
          // The old run commits as fast as it can while the newcomer claims on another connection.
          const committing = (async () => {
            for (let sequence = 1; ; sequence++) {
              try {
                const result = await a.commitCheckpoint({
                  pipeline,
                  sourceId: "s",
                  position: bytes(1),
                  description: "",
                  runId: old,
                  sequence,
                });
                if (result.committed) lastCommitted = sequence;
              } catch (error) {
                stopped = error;
                return;
              }
            }
          })();
          await a.getCheckpoint(pipeline, "s");
          const newer = await b.startRun(pipeline, "p.yaml");
          const atClaim = await b.getCheckpoint(pipeline, "s");
          await committing;
          expect(stopped).toBeInstanceOf(ClaimLostError);
          // Every commit the old run was told succeeded is in what the newcomer saw at its claim.
          expect(atClaim?.sequence ?? 0).toBe(lastCommitted);
          expect((await b.getRun(old))?.supersededBy).toBe(newer);
        }
      });
    });

    describe("service registry", () => {
      const component = {
        name: "filter",
        family: "FAMILY_PROCESSOR",
        contracts: [{ contract: "processor_service", major: 1 }],
        configSchema: { type: "object", properties: { expression: { type: "string" } } },
        experimental: false,
        weight: 1.5,
        note: null,
      };

      it("registers an instance and lists it with its descriptor and expiry", async () => {
        const registered = await store.registerService({
          name: "filter",
          address: "10.0.0.1:5000",
          component,
          ttlSeconds: 15,
        });
        expect(registered).toEqual({
          instanceId: expect.any(String),
          name: "filter",
          address: "10.0.0.1:5000",
          component,
          ttlSeconds: 15,
          registeredAt: clock.now(),
          lastHeartbeatAt: clock.now(),
          expiresAt: new Date(clock.now().getTime() + 15_000),
        });
        expect(await store.listServices()).toEqual([registered]);
      });

      it("grants the default TTL when none (or 0) is asked for", async () => {
        const none = await store.registerService({ name: "a", address: "h:1", component: {} });
        const zero = await store.registerService({ name: "b", address: "h:2", component: [], ttlSeconds: 0 });
        expect([none.ttlSeconds, zero.ttlSeconds]).toEqual([
          DEFAULT_SERVICE_TTL_SECONDS,
          DEFAULT_SERVICE_TTL_SECONDS,
        ]);
        expect((await store.listServices("b"))[0]?.component).toEqual([]);
      });

      it("forgets an instance once its TTL passes without a heartbeat", async () => {
        const { instanceId } = await store.registerService({
          name: "s",
          address: "h:1",
          component,
          ttlSeconds: 10,
        });
        clock.advance(9_999);
        expect(await store.listServices()).toHaveLength(1);
        clock.advance(1);
        expect(await store.listServices()).toEqual([]);
        expect(await store.heartbeatService(instanceId)).toBe(false);
      });

      it("keeps an instance alive while it heartbeats", async () => {
        const { instanceId } = await store.registerService({
          name: "s",
          address: "h:1",
          component,
          ttlSeconds: 10,
        });
        for (let beat = 0; beat < 3; beat++) {
          clock.advance(8_000);
          expect(await store.heartbeatService(instanceId)).toBe(true);
        }
        clock.advance(8_000);
        const [listed] = await store.listServices("s");
        expect(listed).toMatchObject({
          instanceId,
          lastHeartbeatAt: new Date(clock.now().getTime() - 8_000),
          expiresAt: new Date(clock.now().getTime() + 2_000),
        });
        expect(await store.heartbeatService("unknown-instance")).toBe(false);
      });

      it("refreshes the live instance at the same name and address, and issues a new one after expiry", async () => {
        const first = await store.registerService({ name: "s", address: "h:1", component, ttlSeconds: 10 });
        clock.advance(5_000);
        const again = await store.registerService({
          name: "s",
          address: "h:1",
          component: { v: 2 },
          ttlSeconds: 20,
        });
        expect(again).toMatchObject({
          instanceId: first.instanceId,
          registeredAt: first.registeredAt,
          component: { v: 2 },
          expiresAt: new Date(clock.now().getTime() + 20_000),
        });
        const other = await store.registerService({ name: "s", address: "h:2", component, ttlSeconds: 10 });
        expect(other.instanceId).not.toBe(first.instanceId);
        expect((await store.listServices("s")).map((s) => s.address)).toEqual(["h:1", "h:2"]);

        clock.advance(30_000);
        const reborn = await store.registerService({ name: "s", address: "h:1", component, ttlSeconds: 10 });
        expect(reborn.instanceId).not.toBe(first.instanceId);
        expect(reborn.registeredAt).toEqual(clock.now());
        expect(await store.heartbeatService(first.instanceId)).toBe(false);
      });

      it("deregisters, and lists by name", async () => {
        const a = await store.registerService({ name: "alpha", address: "h:1", component });
        await store.registerService({ name: "beta", address: "h:2", component });
        clock.advance(1);
        await store.registerService({ name: "alpha", address: "h:3", component });
        expect((await store.listServices("alpha")).map((s) => s.address)).toEqual(["h:1", "h:3"]);
        expect((await store.listServices()).map((s) => s.name)).toEqual(["alpha", "alpha", "beta"]);
        expect(await store.deregisterService(a.instanceId)).toBe(true);
        expect(await store.deregisterService(a.instanceId)).toBe(false);
        expect((await store.listServices("alpha")).map((s) => s.address)).toEqual(["h:3"]);
        expect(await store.listServices("gamma")).toEqual([]);
      });
    });

    describe("durability and sharing", () => {
      it("keeps checkpoints, runs and services across close and reopen", async () => {
        await store.commitCheckpoint({
          pipeline: "p",
          sourceId: "s",
          position: bytes(42),
          description: "42",
          runId: await runOf("p"),
          sequence: 3,
        });
        const runId = await runOf("p");
        await store.saveStageStats(runId, [stage("s", { eventsOut: 42 })]);
        await store.finishRun(runId, "stopped");
        const service = await store.registerService({
          name: "svc",
          address: "h:1",
          component: { a: [1, 2] },
          ttlSeconds: 60,
        });
        await store.close();

        store = await openStateStore(url, { baseDir: target.baseDir(), clock: clock.now });
        expect(await store.getCheckpoint("p", "s")).toMatchObject({
          description: "42",
          sequence: 3,
          runId,
        });
        expect(Buffer.from((await store.getCheckpoint("p", "s"))?.position ?? [])).toEqual(Buffer.from([42]));
        expect(await store.getRun(runId)).toMatchObject({
          status: "stopped",
          stages: [{ stageId: "s", eventsOut: 42 }],
        });
        expect(await store.listServices()).toEqual([service]);
      });

      it("refuses to work after close, and closes twice quietly", async () => {
        const other = await open();
        await other.close();
        await other.close();
        await expect(other.listRuns()).rejects.toThrow("is closed");
      });

      it("lets two store instances commit the same checkpoints concurrently without moving one back", async () => {
        const a = await open();
        const b = await open();
        // Sequences 1..60 in a scrambled order (37 is coprime with 60), spread over both instances, as
        // concurrent acknowledgements would arrive.
        const runId = await runOf("p");
        const scrambled = Array.from({ length: 60 }, (_, i) => ((i * 37) % 60) + 1);
        const attempts = scrambled.flatMap((sequence, i) => {
          const position = Buffer.alloc(4);
          position.writeUInt32BE(sequence);
          const commit = { pipeline: "p", position, description: `#${sequence}`, runId, sequence };
          return [
            { sequence, result: (i % 2 ? a : b).commitCheckpoint({ ...commit, sourceId: "shared" }) },
            { sequence, result: a.commitCheckpoint({ ...commit, sourceId: "own-a" }) },
            { sequence, result: b.commitCheckpoint({ ...commit, sourceId: "own-b" }) },
          ];
        });
        const results = await Promise.all(attempts.map(async (x) => ({ ...x, result: await x.result })));
        for (const sourceId of ["shared", "own-a", "own-b"]) {
          const final = await store.getCheckpoint("p", sourceId);
          expect(final).toMatchObject({ sequence: 60, description: "#60" });
          expect(Buffer.from(final?.position ?? []).readUInt32BE()).toBe(60);
        }
        // A refused commit was refused because the store already held an equal or higher sequence.
        const refused = results.filter((r) => !r.result.committed);
        expect(refused.length).toBeGreaterThan(0);
        for (const { sequence, result } of refused) {
          expect(result.checkpoint.sequence).toBeGreaterThanOrEqual(sequence);
        }
        expect(results.filter((r) => r.result.committed && r.sequence === 60)).toHaveLength(3);
      });

      it("lets two store instances record runs and services side by side", async () => {
        const a = await open();
        const b = await open();
        const runs = await Promise.all(
          Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).startRun(`p${i}`, "p.yaml")),
        );
        expect(new Set(runs).size).toBe(10);
        await Promise.all(
          runs.map((id, i) => (i % 2 ? b : a).saveStageStats(id, [stage("s", { eventsIn: i })])),
        );
        expect((await store.listRuns({ limit: 100 })).map((r) => r.runId).sort()).toEqual([...runs].sort());
        const services = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            (i % 2 ? a : b).registerService({ name: "s", address: `h:${i % 5}`, component: { i } }),
          ),
        );
        // Five distinct addresses: each registered twice, the second refreshing the first.
        expect(new Set(services.map((s) => s.instanceId)).size).toBe(5);
        expect(await store.listServices("s")).toHaveLength(5);
      });

      it("refuses a store written by a newer Flow, naming the versions", async () => {
        await target.claimNewerSchema(url);
        const attempt = openStateStore(url, { baseDir: target.baseDir(), clock: clock.now });
        await expect(attempt).rejects.toThrow(UserError);
        await expect(attempt).rejects.toThrow(/schema version 99, newer than this Flow knows \(3\)/);
      });
    });
  });
});
