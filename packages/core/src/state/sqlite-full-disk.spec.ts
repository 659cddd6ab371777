import fs from "node:fs";
import path from "node:path";
import { describeWithTmpfs, fillFileSystem, type MountedTmpfs, mountTmpfs } from "@flow/testing";
import { SqliteStateStore } from "./sqlite-state-store";
import type { StateStore } from "./state-store";
import { StoreWriteError } from "./store-errors";

// A real, small tmpfs filled to the last block: SQLite gets ENOSPC from the kernel, as on a full disk.
describeWithTmpfs("SQLite state store on a full disk", () => {
  let disk: MountedTmpfs;
  let file: string;
  let store: SqliteStateStore;
  /** A second connection to the same file, as `flow status` would have. */
  let observer: SqliteStateStore;
  let runId: string;

  const commit = (sequence: number) =>
    store.commitCheckpoint({
      pipeline: "p",
      sourceId: "s",
      // Large enough that the commit needs new blocks of the write-ahead log.
      position: Buffer.alloc(64 * 1024, sequence),
      description: `#${sequence}`,
      runId,
      sequence,
    });

  beforeEach(async () => {
    disk = mountTmpfs(2 * 1024 * 1024);
    file = path.join(disk.dir, "state.db");
    store = SqliteStateStore.open(file);
    observer = SqliteStateStore.open(file);
    runId = await store.startRun("p", "p.yaml");
    expect((await commit(1)).committed).toBe(true);
  });

  afterEach(async () => {
    await store.close();
    await observer.close();
    disk.unmount();
  });

  it("rejects the commit with StoreWriteError, keeps the old checkpoint, and commits again once space is freed", async () => {
    const filler = fillFileSystem(disk.dir);
    const failed = await commit(2).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(StoreWriteError);
    const error = failed as StoreWriteError;
    expect(error.message).toBe(
      `could not commit the checkpoint of p/s in the state store at ${file}: disk full (SQLITE_FULL); nothing was written`,
    );
    expect(error.hint).toMatch(/free space on the file system that holds/);
    expect(error.location).toBe(file);
    // Nothing moved: not for this connection, not for another one.
    expect(await store.getCheckpoint("p", "s")).toMatchObject({ sequence: 1 });
    expect(await observer.getCheckpoint("p", "s")).toMatchObject({ sequence: 1 });

    fs.rmSync(filler);
    expect((await commit(3)).committed).toBe(true);
    expect(await observer.getCheckpoint("p", "s")).toMatchObject({ sequence: 3, description: "#3" });
  });

  it("never reports a write that did not happen as done, whatever the write", async () => {
    fillFileSystem(disk.dir);
    const stage = { stageId: "s", eventsIn: 5, eventsOut: 5, deadLetters: 0, restarts: 0, errors: 0 };
    // Each write either rejects with StoreWriteError or, if it fit in space SQLite already held,
    // is really there for another connection to read.
    const writes: [string, (s: StateStore) => Promise<unknown>, (o: StateStore) => Promise<boolean>][] = [
      [
        "startRun",
        (s) => s.startRun("q", "q.yaml"),
        async (o) => (await o.listRuns({ pipeline: "q" })).length === 1,
      ],
      [
        "saveStageStats",
        (s) => s.saveStageStats(runId, [{ ...stage, health: "serving" }]),
        async (o) => (await o.getRun(runId))?.stages[0]?.eventsIn === 5,
      ],
      [
        "registerService",
        (s) => s.registerService({ name: "svc", address: "h:1", component: { big: "x".repeat(64 * 1024) } }),
        async (o) => (await o.listServices("svc")).length === 1,
      ],
      [
        "finishRun",
        (s) => s.finishRun(runId, "succeeded"),
        async (o) => (await o.getRun(runId))?.status === "succeeded",
      ],
    ];
    let refused = 0;
    for (const [name, write, isThere] of writes) {
      const outcome = await write(store).then(
        () => "done",
        (e: unknown) => e,
      );
      if (outcome === "done") {
        expect({ name, visibleToAnotherConnection: await isThere(observer) }).toEqual({
          name,
          visibleToAnotherConnection: true,
        });
      } else {
        expect({ name, error: outcome }).toEqual({ name, error: expect.any(StoreWriteError) });
        expect((outcome as Error).message).toContain("disk full (SQLITE_FULL)");
        expect({ name, visibleToAnotherConnection: await isThere(observer) }).toEqual({
          name,
          visibleToAnotherConnection: false,
        });
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(0);
  });
});
