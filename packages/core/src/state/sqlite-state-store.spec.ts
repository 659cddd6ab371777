import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { UserError } from "@flow/errors";
import Database from "better-sqlite3";
import type { SqliteCommitReport, SqliteCommitWork } from "../test-support/sqlite-commit-worker";
import { runTypeScriptWorker } from "../test-support/typescript-worker";
import { openStateStore } from "./open-state-store";
import { SqliteStateStore } from "./sqlite-state-store";

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
