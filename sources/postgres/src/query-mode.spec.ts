import { describeWithPostgres, startTcpProxy, unary, uniqueTestSchema } from "@flow/testing";
import pg from "pg";
import { Family, Severity } from "./gen/component/v1/component";
import type { DescribeResponse } from "./gen/source_service/v1/source";
import {
  payload,
  readStream,
  servePostgresSource,
  validateOnly,
} from "./test-support/postgres-source-for-tests";

const served = servePostgresSource();

it("describes itself over gRPC", async () => {
  const response = await unary<DescribeResponse>((done) => served.client.describe({}, done));
  expect(response.component).toEqual(
    expect.objectContaining({ name: "flow-source-postgres", family: Family.FAMILY_SOURCE }),
  );
});

describeWithPostgres("query mode against the local PostgreSQL", (url) => {
  const admin = new pg.Client({ connectionString: url });
  const tables: string[] = [];
  beforeAll(() => admin.connect());
  afterAll(async () => {
    for (const table of tables) await admin.query(`DROP TABLE IF EXISTS ${table}`);
    await admin.end();
  });

  /** A fresh table `(id bigint, updated_at timestamptz, ...)` of this test's own, dropped after the file. */
  async function freshTable(name: string): Promise<{ table: string; config: object }> {
    const table = uniqueTestSchema(`src_pg_${name}`);
    tables.push(table);
    await admin.query(
      `CREATE TABLE ${table} (id bigint NOT NULL, updated_at timestamptz NOT NULL, name text, amount numeric,
        flag boolean, small int, doc jsonb, PRIMARY KEY (id))`,
    );
    await admin.query(`CREATE INDEX ON ${table} (updated_at, id)`);
    return {
      table,
      config: { mode: "query", url, table, cursorColumns: ["updated_at", "id"], pollIntervalMs: 20 },
    };
  }

  async function insert(table: string, rows: [number, string][]): Promise<void> {
    for (const [id, at] of rows)
      await admin.query(`INSERT INTO ${table} (id, updated_at, name) VALUES ($1, $2, $3)`, [
        id,
        at,
        `n${id}`,
      ]);
  }

  it("reads the rows in cursor order, values exact, each batch's checkpoint the cursor of its last row", async () => {
    const { table, config } = await freshTable("order");
    await admin.query(
      `INSERT INTO ${table} VALUES (9007199254740993, '2026-01-01 10:00:00.123456+00', 'big', 12345678901234567890.5, true, 7, '{"a":[1,2]}'),
                                   (1, '2026-01-01 09:00:00+00', NULL, NULL, NULL, NULL, NULL),
                                   (2, '2026-01-01 11:00:00+00', 'two', 2, false, -1, '"x"')`,
    );
    const read = readStream(served, config, { maxBatchSize: 2 });
    const first = await read.batch();
    const second = await read.batch();
    expect([...first.events, ...second.events].map((event) => payload(event).id)).toEqual([
      "1",
      "9007199254740993",
      "2",
    ]);
    expect(payload(first.events[1] as never)).toEqual({
      id: "9007199254740993",
      updated_at: "2026-01-01 10:00:00.123456+00",
      name: "big",
      amount: "12345678901234567890.5",
      flag: true,
      small: 7,
      doc: { a: [1, 2] },
    });
    expect(payload(first.events[0] as never)).toEqual(
      expect.objectContaining({ name: null, amount: null, flag: null, doc: null }),
    );
    expect(first.events[0]).toEqual(
      expect.objectContaining({
        id: `public.${table}["2026-01-01 09:00:00+00","1"]`,
        source: `/postgres/test/public.${table}`,
        type: "postgres.row",
        datacontenttype: "application/json",
      }),
    );
    expect(JSON.parse(first.position.toString()).cursor).toEqual([
      "2026-01-01 10:00:00.123456+00",
      "9007199254740993",
    ]);
    expect(JSON.parse(second.position.toString()).cursor).toEqual(["2026-01-01 11:00:00+00", "2"]);
    await read.end();
  });

  it("resumes after its checkpoint; a row updated later comes again as a new version with a new id", async () => {
    const { table, config } = await freshTable("resume");
    await insert(table, [
      [1, "2026-01-01 00:00:01+00"],
      [2, "2026-01-01 00:00:02+00"],
      [3, "2026-01-01 00:00:03+00"],
    ]);
    const firstRun = readStream(served, config, { maxBatchSize: 2 });
    const first = await firstRun.batch();
    const replayed = (await firstRun.batch()).events;
    await firstRun.end();

    await admin.query(`UPDATE ${table} SET updated_at = '2026-01-01 00:00:09+00', name = 'new' WHERE id = 1`);
    const secondRun = readStream(served, config, { checkpoint: first.position, maxBatchSize: 10 });
    const again = await secondRun.events(2);
    // Row 3's version is the one the first run emitted after the checkpoint: the same id again.
    expect(again[0]?.id).toBe(replayed[0]?.id);
    expect(again.map((event) => [payload(event).id, payload(event).name])).toEqual([
      ["3", "n3"],
      ["1", "new"],
    ]);
    expect(again[1]?.id).not.toBe(first.events[0]?.id);
    await secondRun.end();
  });

  it("rows sharing a cursor value are all read across page boundaries (the tie-breaker orders them)", async () => {
    const { table, config } = await freshTable("ties");
    await insert(
      table,
      [5, 3, 1, 4, 2].map((id) => [id, "2026-01-01 00:00:00+00"]),
    );
    const read = readStream(served, config, { maxBatchSize: 2 });
    const events = await read.events(5);
    expect(events.map((event) => payload(event).id)).toEqual(["1", "2", "3", "4", "5"]);
    await read.end();
  });

  it("once caught up, polls: rows added later arrive on the same stream", async () => {
    const { table, config } = await freshTable("poll");
    await insert(table, [[1, "2026-01-01 00:00:01+00"]]);
    const read = readStream(served, config);
    expect((await read.events(1)).map((event) => payload(event).id)).toEqual(["1"]);
    await insert(table, [
      [2, "2026-01-01 00:00:02+00"],
      [3, "2026-01-01 00:00:03+00"],
    ]);
    expect((await read.events(2)).map((event) => payload(event).id)).toEqual(["2", "3"]);
    await read.end();
  });

  it("cuts batches to maxBatchBytes and loses no row between them", async () => {
    const { table, config } = await freshTable("bytes");
    await insert(
      table,
      Array.from({ length: 10 }, (_, index) => [index + 1, `2026-01-01 00:00:${10 + index}+00`]),
    );
    const read = readStream(served, config, { maxBatchSize: 100, maxBatchBytes: 600 });
    const sizes: number[] = [];
    const ids: unknown[] = [];
    while (ids.length < 10) {
      const batch = await read.batch();
      sizes.push(batch.events.length);
      ids.push(...batch.events.map((event) => payload(event).id));
    }
    expect(ids).toEqual(["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"]);
    expect(Math.max(...sizes)).toBeLessThan(10);
    await read.end();
  });

  it("refuses, for good, a checkpoint taken on another table", async () => {
    const { table, config } = await freshTable("foreign");
    const checkpoint = Buffer.from(
      JSON.stringify({
        kind: "postgres-query",
        table: "public.other",
        cursorColumns: ["updated_at", "id"],
        cursor: ["x", "1"],
      }),
    );
    const read = readStream(served, config, { checkpoint });
    const status = await read.reader.status;
    expect(status.code).toBe(9); // FAILED_PRECONDITION: Core stops the run, no restart can help
    expect(status.details).toContain(`public.${table}`);
  });

  it("a connection cut under it fails the stream UNAVAILABLE (Core restarts it from the checkpoint)", async () => {
    const { table, config } = await freshTable("cut");
    await insert(table, [[1, "2026-01-01 00:00:01+00"]]);
    const target = new URL(url);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    try {
      const proxied = new URL(url);
      proxied.host = `127.0.0.1:${proxy.port}`;
      const read = readStream(served, { ...config, url: proxied.toString() });
      await read.events(1);
      proxy.cut();
      const status = await read.reader.status;
      expect(status.code).toBe(14);
    } finally {
      await proxy.close();
    }
  });

  describe("validate-only reaches the server", () => {
    it("accepts a table and cursor columns that exist", async () => {
      const { config } = await freshTable("valid");
      expect(await validateOnly(served, config)).toEqual(
        expect.objectContaining({ accepted: true, issues: [] }),
      );
    });

    it("reports an unreachable server at /url", async () => {
      const { config } = await freshTable("unreachable");
      const response = await validateOnly(served, { ...config, url: "postgres://postgres@127.0.0.1:1/test" });
      expect(response.accepted).toBe(false);
      expect(response.issues).toEqual([
        expect.objectContaining({ path: "/url", severity: Severity.SEVERITY_ERROR }),
      ]);
      expect(response.issues[0]?.message).toMatch(
        /cannot connect to postgres:\/\/postgres@127.0.0.1:1\/test/,
      );
    });

    it("reports a missing table at /table and a missing cursor column at its index", async () => {
      const { config } = await freshTable("missing");
      const missingTable = await validateOnly(served, { ...config, table: "no_such_table_here" });
      expect(missingTable.issues).toEqual([
        expect.objectContaining({
          path: "/table",
          message: expect.stringContaining("no_such_table_here does not exist"),
        }),
      ]);
      const missingColumn = await validateOnly(served, { ...config, cursorColumns: ["updated_at", "nope"] });
      expect(missingColumn.accepted).toBe(false);
      expect(missingColumn.issues).toEqual([
        expect.objectContaining({
          path: "/cursorColumns/1",
          message: expect.stringContaining("no column nope"),
        }),
      ]);
    });

    it("warns at the column when a cursor column may be NULL", async () => {
      const { config } = await freshTable("nullable");
      const response = await validateOnly(served, { ...config, cursorColumns: ["name", "id"] });
      expect(response.accepted).toBe(true);
      expect(response.issues).toEqual([
        expect.objectContaining({ path: "/cursorColumns/0", severity: Severity.SEVERITY_WARNING }),
      ]);
    });

    it("says which field the mode lacks", async () => {
      const response = await validateOnly(served, { mode: "query", url, table: "x" });
      expect(response.issues).toEqual([expect.objectContaining({ path: "/cursorColumns" })]);
    });
  });
});
