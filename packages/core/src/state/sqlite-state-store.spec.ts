import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { UserError } from "@flow/errors";
import Database from "better-sqlite3";
import type { ClaimRaceReport, ClaimRaceWork } from "../test-support/claim-race-worker";
import type { SqliteCommitReport, SqliteCommitWork } from "../test-support/sqlite-commit-worker";
import { runTypeScriptWorker } from "../test-support/typescript-worker";
import { openStateStore } from "./open-state-store";
import { SQLITE_MIGRATIONS } from "./sqlite-migrations";
import { SqliteStateStore } from "./sqlite-state-store";
import { DamagedStoreError, StoreReadError } from "./store-errors";

// What only the SQLite store does: files, folders, WAL, and sharing one file between threads.
describe("SQLite state store", () => {
  let dir: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "flow-sqlite-state-"));
  });

  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("defaults to .flow/state.db under the base directory, creating the folder, in WAL mode", async () => {
    const store = await openStateStore(undefined, { baseDir: dir });
    await store.close();
    const file = path.join(dir, ".flow", "state.db");
    expect(store.location).toBe(file);
    const db = new Database(file, { readonly: true });
    try {
      expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
      const versions = db.prepare("SELECT version, name FROM schema_migrations").all();
      expect(versions).toEqual([
        { version: 1, name: "checkpoints, runs, run stages and services" },
        { version: 2, name: "one running run per pipeline, and who took over an abandoned one" },
        { version: 3, name: "the contract major each stage spoke in a run" },
      ]);
    } finally {
      db.close();
    }
  });

  it("opens an absolute path and an existing store again without migrating twice", async () => {
    const file = path.join(dir, "deep", "er", "state.db");
    await (await openStateStore(`sqlite:${file}`, { baseDir: "/nowhere" })).close();
    const again = await openStateStore(`sqlite://${file}`, { baseDir: "/nowhere" });
    expect(again.location).toBe(file);
    await again.close();
  });

  it("works in memory", async () => {
    const store = await openStateStore("sqlite::memory:", { baseDir: dir });
    await store.startRun("p", "p.yaml");
    expect(await store.listRuns()).toHaveLength(1);
    await store.close();
  });

  it("reports a file that is not a database as a user error naming it", async () => {
    const file = path.join(dir, "notes.txt");
    fs.writeFileSync(file, "these are not the tables you are looking for\n".repeat(100));
    const attempt = openStateStore("sqlite:notes.txt", { baseDir: dir });
    await expect(attempt).rejects.toThrow(UserError);
    await expect(attempt).rejects.toThrow(`cannot open the SQLite state store at ${file}`);
  });

  it("reports a path it cannot create as a user error", async () => {
    fs.writeFileSync(path.join(dir, "file"), "");
    const attempt = openStateStore("sqlite:file/state.db", { baseDir: dir });
    await expect(attempt).rejects.toThrow(UserError);
    await expect(attempt).rejects.toThrow(
      `cannot open the SQLite state store at ${path.join(dir, "file", "state.db")}`,
    );
  });

  describe("refuses what is no state store, before it can do harm", () => {
    /** A store with one checkpoint at `file`, closed again. */
    const storeWithCheckpoint = async (file: string) => {
      const store = SqliteStateStore.open(file);
      const runId = await store.startRun("p", "p.yaml");
      await store.commitCheckpoint({
        pipeline: "p",
        sourceId: "s",
        position: Buffer.from("42"),
        description: "42",
        runId,
        sequence: 1,
      });
      await store.close();
    };

    it("refuses a store missing a table, naming the table, the file and what to do", async () => {
      const file = path.join(dir, "state.db");
      await storeWithCheckpoint(file);
      const db = new Database(file);
      db.exec("DROP TABLE run_stages");
      db.close();
      const attempt = openStateStore(`sqlite:${file}`, { baseDir: dir });
      await expect(attempt).rejects.toThrow(DamagedStoreError);
      await expect(attempt).rejects.toThrow(
        `the state store at ${file} is damaged: table run_stages is missing`,
      );
      const error = (await attempt.catch((e: unknown) => e)) as DamagedStoreError;
      expect(error.hint).toContain(`restore ${file} from a backup`);
      expect(error.hint).toContain(`mv ${file} ${file}.damaged`);
    });

    it("refuses a store missing a column", async () => {
      const file = path.join(dir, "state.db");
      await storeWithCheckpoint(file);
      const db = new Database(file);
      db.exec("ALTER TABLE services DROP COLUMN ttl_seconds");
      db.close();
      await expect(openStateStore(`sqlite:${file}`, { baseDir: dir })).rejects.toThrow(
        `the state store at ${file} is damaged: column services.ttl_seconds is missing`,
      );
    });

    it("refuses a database with tables but no schema_migrations (not Flow's, or damaged)", async () => {
      const file = path.join(dir, "other.db");
      const db = new Database(file);
      db.exec("CREATE TABLE orders (id INTEGER)");
      db.close();
      await expect(openStateStore(`sqlite:${file}`, { baseDir: dir })).rejects.toThrow(
        /is damaged: it has tables \(orders\) but no schema_migrations table/,
      );
    });

    it("refuses an existing empty file instead of taking it for a new store, and leaves it as it is", async () => {
      const file = path.join(dir, "state.db");
      await storeWithCheckpoint(file);
      fs.truncateSync(file, 0);
      const attempt = openStateStore(`sqlite:${file}`, { baseDir: dir });
      await expect(attempt).rejects.toThrow(DamagedStoreError);
      await expect(attempt).rejects.toThrow(
        `the state store at ${file} is damaged: the file is empty (0 bytes); Flow never leaves a state file empty, so it was truncated`,
      );
      expect(fs.statSync(file).size).toBe(0);
    });

    it("rejects a read of a table that vanished under an open store with a UserError", async () => {
      const file = path.join(dir, "state.db");
      await storeWithCheckpoint(file);
      const store = SqliteStateStore.open(file);
      try {
        const db = new Database(file);
        db.exec("DROP TABLE checkpoints");
        db.close();
        const read = store.getCheckpoint("p", "s");
        await expect(read).rejects.toThrow(UserError);
        await expect(read).rejects.toThrow(
          `the state store at ${file} is damaged: table checkpoints is missing`,
        );
        await expect(store.listCheckpoints()).rejects.toThrow(DamagedStoreError);
      } finally {
        await store.close();
      }
    });

    it("rejects a checkpoint read of a damaged page with StoreReadError", async () => {
      const file = path.join(dir, "state.db");
      await storeWithCheckpoint(file);
      const store = SqliteStateStore.open(file);
      try {
        // Overwrite every page after the first (the schema) with garbage, behind the store's back.
        const size = fs.statSync(file).size;
        const fd = fs.openSync(file, "r+");
        fs.writeSync(fd, Buffer.alloc(size - 4096, 0x5a), 0, size - 4096, 4096);
        fs.closeSync(fd);
        const read = store.listCheckpoints();
        await expect(read).rejects.toThrow(StoreReadError);
        await expect(read).rejects.toThrow(
          new RegExp(
            `could not list the checkpoints from the state store at ${file}: the file is damaged \\(SQLITE_CORRUPT`,
          ),
        );
      } finally {
        await store.close();
      }
    });

    it.each([
      ["/proc/self/status", "the kernel's proc file system"],
      ["/proc/flow-state.db", "the kernel's proc file system"],
      ["/sys/kernel/flow/state.db", "the kernel's sysfs file system"],
      ["/dev/null", "is in /dev, the folder of device files"],
      ["/dev/flow-state.db", "is in /dev, the folder of device files"],
    ])("refuses %s before touching it", async (file, reason) => {
      const attempt = openStateStore(`sqlite:${file}`, { baseDir: dir });
      await expect(attempt).rejects.toThrow(UserError);
      await expect(attempt).rejects.toThrow(`cannot open the SQLite state store at ${file}: `);
      await expect(attempt).rejects.toThrow(reason);
      expect(fs.existsSync("/dev/flow-state.db")).toBe(false);
    });

    it("refuses a named pipe and a folder: not regular files", async () => {
      const fifo = path.join(dir, "fifo.db");
      execFileSync("mkfifo", [fifo]);
      await expect(openStateStore(`sqlite:${fifo}`, { baseDir: dir })).rejects.toThrow(
        `cannot open the SQLite state store at ${fifo}: it is a named pipe (FIFO), not a regular file`,
      );
      await expect(openStateStore(`sqlite:${dir}`, { baseDir: dir })).rejects.toThrow(
        `cannot open the SQLite state store at ${dir}: it is a folder, not a regular file`,
      );
    });

    it("creates a new file once when several processes open it at the same moment", async () => {
      const workers = 4;
      const startLines = new SharedArrayBuffer(4 * 2);
      const reports = await Promise.all(
        Array.from({ length: workers }, () =>
          runTypeScriptWorker<ClaimRaceReport>(path.join(__dirname, "../test-support/claim-race-worker.ts"), {
            url: "sqlite:fresh/state.db",
            baseDir: dir,
            workers,
            rounds: 1,
            pipelinePrefix: "fresh",
            startLines,
          } satisfies ClaimRaceWork),
        ),
      );
      expect(reports.flat().filter((claim) => claim !== null)).toHaveLength(1);
      expect(fs.readdirSync(path.join(dir, "fresh"))).toEqual(["state.db"]);
    });
  });

  it("keeps the newest running run of a pipeline when migrating a store from before runs were exclusive", async () => {
    const file = path.join(dir, "v1.db");
    const db = new Database(file);
    db.exec(
      "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
    );
    for (const statement of SQLITE_MIGRATIONS[0]?.statements ?? []) db.exec(statement);
    db.prepare("INSERT INTO schema_migrations VALUES (1, 'v1', 0)").run();
    const insert = db.prepare(
      "INSERT INTO runs (run_id, pipeline, pipeline_file, status, started_at, pid, host, heartbeat_at) VALUES (?, ?, 'p.yaml', 'running', 0, 1, 'h', ?)",
    );
    insert.run("old", "p", 10);
    insert.run("new", "p", 20);
    insert.run("alone", "q", 30);
    db.close();
    const store = SqliteStateStore.open(file);
    try {
      const runs = await store.listRuns();
      expect(runs.map((r) => [r.runId, r.status])).toEqual([
        ["alone", "running"],
        ["new", "running"],
        ["old", "failed"],
      ]);
      expect(runs[2]).toMatchObject({
        endedAt: new Date(10),
        error: "abandoned: a newer run of the pipeline was running when runs became exclusive",
      });
    } finally {
      await store.close();
    }
  });

  it("migrates a store from before contract majors: its stages' stats keep their counts, with no major", async () => {
    const file = path.join(dir, "v2.db");
    const db = new Database(file);
    db.exec(
      "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
    );
    for (const [index, migration] of SQLITE_MIGRATIONS.slice(0, 2).entries()) {
      for (const statement of migration.statements) db.exec(statement);
      db.prepare("INSERT INTO schema_migrations VALUES (?, 'old', 0)").run(index + 1);
    }
    db.prepare(
      "INSERT INTO runs (run_id, pipeline, pipeline_file, status, started_at, pid, host, heartbeat_at) VALUES ('r', 'p', 'p.yaml', 'succeeded', 0, 1, 'h', 0)",
    ).run();
    db.prepare(
      "INSERT INTO run_stages (run_id, stage_id, ordinal, events_in, events_out, dead_letters, restarts, errors, health, updated_at) VALUES ('r', 's', 0, 1, 2, 0, 0, 0, 'serving', 0)",
    ).run();
    db.close();
    const store = SqliteStateStore.open(file);
    try {
      const [stage] = (await store.getRun("r"))?.stages ?? [];
      expect(stage).toMatchObject({ stageId: "s", eventsIn: 1, eventsOut: 2 });
      expect(stage && "contractMajor" in stage).toBe(false);
    } finally {
      await store.close();
    }
  });

  it("lets several threads write the same file at once without losing or reordering commits", async () => {
    const file = path.join(dir, "shared.db");
    const commits = 300;
    const workers = 4;
    const startLine = new SharedArrayBuffer(4);
    // One run of "shared" whose commits arrive through every worker's connection, as acknowledgements
    // of one run would from several connections; each worker also runs a pipeline of its own.
    const creator = SqliteStateStore.open(file);
    const sharedRunId = await creator.startRun("shared", "shared.yaml");
    await creator.close();
    const reports = await Promise.all(
      Array.from({ length: workers }, (_, worker) =>
        runTypeScriptWorker<SqliteCommitReport>(
          path.join(__dirname, "../test-support/sqlite-commit-worker.ts"),
          {
            file,
            worker,
            commits,
            workers,
            startLine,
            sharedRunId,
          } satisfies SqliteCommitWork,
        ),
      ),
    );

    const store = SqliteStateStore.open(file);
    try {
      expect(await store.getCheckpoint("shared", "shared")).toMatchObject({ sequence: commits });
      for (let worker = 0; worker < workers; worker++) {
        expect(await store.getCheckpoint(`worker-${worker}`, "own")).toMatchObject({ sequence: commits });
      }
      // Each worker commits 1..n in order, so whoever reaches a sequence first gets it in and the
      // others are refused: every sequence is accepted exactly once, whatever the interleaving.
      const accepted = reports.reduce((sum, r) => sum + r.committed, 0);
      expect(accepted).toBe(commits);
      expect(accepted + reports.reduce((sum, r) => sum + r.refused, 0)).toBe(commits * workers);
      for (let worker = 0; worker < workers; worker++) {
        const [run] = await store.listRuns({ pipeline: `worker-${worker}` });
        expect(run).toMatchObject({ status: "succeeded", stages: [{ eventsIn: commits }] });
      }
      expect(await store.listServices("w")).toHaveLength(workers);
    } finally {
      await store.close();
    }
  });
});
