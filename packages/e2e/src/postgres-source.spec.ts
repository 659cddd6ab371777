import { execFileSync } from "node:child_process";
import { describeWithPostgres, uniqueTestSchema } from "@flow/testing";
import {
  type PrivatePostgresCluster,
  startPrivatePostgresCluster,
  withPrivatePostgres,
} from "@flow/testing/private-postgres";
import Database from "better-sqlite3";
import { runUntilComplete, sinkCounts, sinkHolds } from "./test-support/broker-round-trip";
import { FlowProcess, runFlow, serviceMain } from "./test-support/flow-cli";
import { tempDir } from "./test-support/temp-dir";

const SOURCE = "from-postgres";

/** A client of a private cluster (its type comes with @flow/testing; this package has no pg types of its own). */
type PgClient = Awaited<ReturnType<PrivatePostgresCluster["connect"]>>;

/** psql against the shared server (as the Redis spec uses redis-cli): one command, its output. */
function psql(url: string, sql: string): string {
  return execFileSync("psql", [url, "-v", "ON_ERROR_STOP=1", "-qAtc", sql], {
    encoding: "utf8",
    timeout: 120_000,
  }).trim();
}

/** A pipeline: source-postgres (stage `from-postgres`) → SQLite (`events`, one row per event id). */
function pipeline(
  dir: ReturnType<typeof tempDir>,
  name: string,
  sourceConfig: object,
): { file: string; db: string } {
  const db = `${dir.path}/${name}.db`;
  const file = dir.file(
    `${name}.yaml`,
    `
apiVersion: flow/v1
kind: Pipeline
metadata: { name: ${name} }
defaults: { batch: { maxSize: 500, lingerMs: 20 }, inFlight: 4, restart: { initialDelayMs: 50 } }
sources:
  - id: ${SOURCE}
    command: [node, ${JSON.stringify(serviceMain("@flow/source-postgres"))}]
    config: ${JSON.stringify(sourceConfig)}
consumers:
  - id: db
    command: [node, ${JSON.stringify(serviceMain("@flow/consumer-sqlite"))}]
    inputs: [${SOURCE}]
    config: { path: ${JSON.stringify(db)}, table: events }
`,
  );
  return { file, db };
}

/** The sink's payloads in the order they arrived (rowid: a replayed event adds no row). */
function sinkPayloads(db: string): Record<string, unknown>[] {
  const reader = new Database(db, { readonly: true });
  try {
    return (reader.prepare("SELECT data FROM events ORDER BY rowid").all() as { data: string }[]).map((row) =>
      JSON.parse(row.data),
    );
  } finally {
    reader.close();
  }
}

/** SIGKILL of `run` (Core, the `flow run` process); its services stop themselves when it dies. */
async function killCore(run: FlowProcess): Promise<void> {
  run.kill("SIGKILL");
  expect((await run.wait()).signal).toBe("SIGKILL");
}

describeWithPostgres("source-postgres query mode through flow run", (url) => {
  const dir = tempDir("postgres-query");
  let table: string;
  afterAll(() => dir.remove());
  beforeEach(() => {
    table = uniqueTestSchema("e2e_rows");
  });
  afterEach(() => psql(url, `DROP TABLE IF EXISTS ${table}`));

  it("100,000 rows land exactly once in SQLite, through a SIGKILL of Core mid-run and a rerun", async () => {
    const total = 100_000;
    // Seven rows share each updated_at: the tie-breaker has to keep them apart across pages.
    psql(
      url,
      `CREATE TABLE ${table} (id bigint PRIMARY KEY, updated_at timestamptz NOT NULL, note text);
       INSERT INTO ${table} SELECT n, timestamptz '2026-01-01 00:00:00+00' + (n / 7) * interval '1 millisecond', 'row ' || n
         FROM generate_series(1, ${total}) AS n;
       CREATE INDEX ON ${table} (updated_at, id);`,
    );
    const { file, db } = pipeline(dir, "postgres-query", {
      mode: "query",
      url,
      table,
      cursorColumns: ["updated_at", "id"],
      pollIntervalMs: 200,
    });
    const first = new FlowProcess(["run", file], { cwd: dir.path });
    await sinkHolds(first, db, Math.floor(total * (0.2 + Math.random() * 0.4)));
    await killCore(first);
    const beforeKill = sinkCounts(db).uniq;
    expect(beforeKill).toBeLessThan(total);

    const rerun = new FlowProcess(["run", file], { cwd: dir.path });
    await runUntilComplete(rerun, db, total);
    console.log(`postgres query: Core killed with ${beforeKill} of ${total} rows in the sink`);
    expect(sinkCounts(db)).toEqual({ rows: total, uniq: total });
    const ids = new Set(sinkPayloads(db).map((row) => row.id));
    expect(ids.size).toBe(total);
    for (const id of [1, 7, 8, 50_000, total]) expect(ids.has(String(id))).toBe(true);
  }, 300_000);
});

/**
 * Writes changes to `items` until stopped, each step one transaction: insert a row, update the row
 * before it, delete the row two before every third step, and every 25th step one more update of
 * the newest rows at once. Records, per row, the changes of every committed transaction in order.
 */
class ChangeWriter {
  readonly expected = new Map<number, string[]>();
  private stopped = false;
  private step = 0;
  readonly done: Promise<void>;

  constructor(private readonly client: PgClient) {
    this.done = this.run();
    // Awaited by stop(); a failure must not go unhandled before that.
    this.done.catch(() => undefined);
  }

  get changes(): number {
    let count = 0;
    for (const changes of this.expected.values()) count += changes.length;
    return count;
  }

  stop(): Promise<void> {
    this.stopped = true;
    return this.done;
  }

  private record(changes: [number, string][]): void {
    for (const [id, change] of changes) {
      const list = this.expected.get(id) ?? [];
      list.push(change);
      this.expected.set(id, list);
    }
  }

  private async run(): Promise<void> {
    const versions = new Map<number, number>();
    while (!this.stopped) {
      const i = ++this.step;
      const changes: [number, string][] = [];
      const next = new Map(versions);
      await this.client.query("BEGIN");
      await this.client.query("INSERT INTO items (id, v, note) VALUES ($1, 1, $2)", [i, `item ${i}`]);
      next.set(i, 1);
      changes.push([i, "insert:1"]);
      if (next.has(i - 1)) {
        await this.client.query("UPDATE items SET v = v + 1 WHERE id = $1", [i - 1]);
        const v = (next.get(i - 1) ?? 0) + 1;
        next.set(i - 1, v);
        changes.push([i - 1, `update:${v}`]);
      }
      if (i % 3 === 0 && next.has(i - 2)) {
        await this.client.query("DELETE FROM items WHERE id = $1", [i - 2]);
        next.delete(i - 2);
        changes.push([i - 2, "delete"]);
      }
      if (i % 25 === 0) {
        await this.client.query("UPDATE items SET v = v + 1 WHERE id > $1", [i - 10]);
        for (const [id, v] of next)
          if (id > i - 10) {
            next.set(id, v + 1);
            changes.push([id, `update:${v + 1}`]);
          }
      }
      await this.client.query("COMMIT");
      versions.clear();
      for (const [id, v] of next) versions.set(id, v);
      this.record(changes);
    }
  }
}

/** A change as the sink holds it, in the writer's notation. */
function changeOf(payload: Record<string, unknown>): [number, string] {
  const row = (payload.op === "delete" ? payload.old : payload.new) as { id: number; v?: number };
  return [row.id, payload.op === "delete" ? "delete" : `${payload.op}:${row.v}`];
}

withPrivatePostgres(() => {
  describe("source-postgres cdc mode through flow run, on a cluster with wal_level=logical", () => {
    const dir = tempDir("postgres-cdc");
    let cluster: PrivatePostgresCluster;
    let admin: PgClient;
    beforeAll(async () => {
      cluster = await startPrivatePostgresCluster();
      admin = await cluster.connect();
    }, 120_000);
    afterAll(async () => {
      await admin?.end();
      await cluster?.stop();
      dir.remove();
    }, 60_000);

    it("inserts, updates and deletes while Core is SIGKILLed twice: every change once, in commit order per row, the slot never past a committed checkpoint", async () => {
      await admin.query("CREATE TABLE items (id int PRIMARY KEY, v int NOT NULL, note text)");
      const { file, db } = pipeline(dir, "postgres-cdc", {
        mode: "cdc",
        url: cluster.url,
        slot: "flow_e2e",
        publication: "flow_e2e",
        createSlot: true,
        createPublication: true,
        tables: ["items"],
        statusIntervalMs: 200,
      });

      const slotLsn = async (): Promise<string | undefined> =>
        (
          await admin.query<{ lsn: string | null }>(
            "SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = 'flow_e2e'",
          )
        ).rows[0]?.lsn ?? undefined;
      let createdAt: string | undefined;
      let checks = 0;
      /** The slot's position read first, then the checkpoint Flow committed: the slot must not be past it. */
      const expectSlotWithinCommitted = async (): Promise<void> => {
        const slot = await slotLsn();
        const listed = await runFlow(["checkpoints", "list", file, "--json"], { cwd: dir.path });
        expect(listed.code).toBe(0);
        const checkpoint = (JSON.parse(listed.stdout) as { sourceId: string; position: string }[]).find(
          (c) => c.sourceId === SOURCE,
        );
        if (!checkpoint) {
          expect(slot).toBe(createdAt);
          return;
        }
        const committed = (
          JSON.parse(Buffer.from(checkpoint.position, "base64").toString("utf8")) as { lsn: string }
        ).lsn;
        const compared = await admin.query<{ within: boolean }>("SELECT $1::pg_lsn <= $2::pg_lsn AS within", [
          slot,
          committed,
        ]);
        expect({ slot, committed, within: compared.rows[0]?.within }).toEqual({
          slot,
          committed,
          within: true,
        });
        checks += 1;
      };

      const first = new FlowProcess(["run", file], { cwd: dir.path });
      // Changes are streamed from the slot's creation on: write once the source has made it.
      for (;;) {
        createdAt = await slotLsn();
        if (createdAt !== undefined) break;
        if (first.child.exitCode !== null) throw new Error(`flow exited:\n${first.stderr.slice(-3000)}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const writerClient = await cluster.connect();
      const writer = new ChangeWriter(writerClient);
      try {
        await sinkHolds(first, db, 1500);
        await expectSlotWithinCommitted();
        await killCore(first);
        await expectSlotWithinCommitted();

        const second = new FlowProcess(["run", file], { cwd: dir.path });
        await sinkHolds(second, db, sinkCounts(db).uniq + 3000);
        await expectSlotWithinCommitted();
        await killCore(second);
        await expectSlotWithinCommitted();

        const third = new FlowProcess(["run", file], { cwd: dir.path });
        await sinkHolds(third, db, sinkCounts(db).uniq + 1500);
        await writer.stop();
        await runUntilComplete(third, db, writer.changes);
        await expectSlotWithinCommitted();
      } finally {
        await writer.stop().catch(() => undefined);
        await writerClient.end();
      }

      console.log(
        `postgres cdc: ${writer.changes} changes, ${checks} slot checks against the committed checkpoint`,
      );
      expect(sinkCounts(db)).toEqual({ rows: writer.changes, uniq: writer.changes });
      const arrived = new Map<number, string[]>();
      for (const payload of sinkPayloads(db)) {
        const [id, change] = changeOf(payload);
        arrived.set(id, [...(arrived.get(id) ?? []), change]);
      }
      expect(arrived).toEqual(writer.expected);
    }, 300_000);
  });
});
