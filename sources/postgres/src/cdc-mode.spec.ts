import type { FlowEvent } from "@flow/sdk";
import { startTcpProxy, uniqueTestSchema } from "@flow/testing";
import {
  type PrivatePostgresCluster,
  startPrivatePostgresCluster,
  withPrivatePostgres,
} from "@flow/testing/private-postgres";
import type pg from "pg";
import { decodeCdcCheckpoint } from "./cdc-checkpoint";
import { formatLsn } from "./lsn";
import {
  payload,
  readStream,
  servePostgresSource,
  validateOnly,
} from "./test-support/postgres-source-for-tests";

const served = servePostgresSource();

const text = (event: { extensions: Record<string, { value?: { value: unknown } }> }, name: string): unknown =>
  event.extensions[name]?.value?.value;

withPrivatePostgres(() => {
  let cluster: PrivatePostgresCluster;
  let admin: pg.Client;
  beforeAll(async () => {
    cluster = await startPrivatePostgresCluster();
    admin = await cluster.connect();
  }, 120_000);
  afterAll(async () => {
    await admin?.end();
    await cluster?.stop();
  }, 60_000);

  /** A table, a publication of it and a slot's name, all of this test's own. */
  async function freshTable(
    name: string,
  ): Promise<{ table: string; slot: string; config: Record<string, unknown> }> {
    const table = uniqueTestSchema(`cdc_${name}`);
    await admin.query(`CREATE TABLE ${table} (id int PRIMARY KEY, name text, at timestamptz)`);
    return {
      table,
      slot: table,
      config: {
        mode: "cdc",
        url: cluster.url,
        slot: table,
        publication: table,
        createSlot: true,
        createPublication: true,
        tables: [table],
        statusIntervalMs: 100,
      },
    };
  }

  /**
   * The publication and slot made before the rows are written: pgoutput decodes each change with
   * the catalog as it was then, so a publication created after a change does not see it.
   */
  async function publishAndCreateSlot(table: string, slot: string): Promise<void> {
    await admin.query(`CREATE PUBLICATION ${table} FOR TABLE ${table}`);
    await admin.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [slot]);
  }

  async function slotState(slot: string): Promise<{ confirmed: string; active: boolean }> {
    const found = await admin.query<{ confirmed: string; active: boolean }>(
      "SELECT confirmed_flush_lsn::text AS confirmed, active FROM pg_replication_slots WHERE slot_name = $1",
      [slot],
    );
    const row = found.rows[0];
    if (!row) throw new Error(`no slot ${slot}`);
    return row;
  }

  /** Waits for the server to have received `count` more standby status updates from the slot's walsender. */
  async function statusUpdates(slot: string, count: number): Promise<void> {
    const replyTime = async (): Promise<string | null> =>
      (
        await admin.query<{ reply_time: string | null }>(
          `SELECT r.reply_time::text FROM pg_stat_replication r JOIN pg_replication_slots s ON s.active_pid = r.pid WHERE s.slot_name = $1`,
          [slot],
        )
      ).rows[0]?.reply_time ?? null;
    let last = await replyTime();
    for (let seen = 0; seen < count; ) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      const now = await replyTime();
      if (now !== null && now !== last) {
        seen += 1;
        last = now;
      }
    }
  }

  /** Waits until the slot's confirmed flush position is `lsn`. */
  async function confirmedBecomes(slot: string, lsn: string): Promise<void> {
    while ((await slotState(slot)).confirmed !== lsn) await new Promise((resolve) => setTimeout(resolve, 20));
  }

  const checkpointLsn = (checkpoint: Buffer): string => {
    const position = decodeCdcCheckpoint(checkpoint);
    if (!position) throw new Error("not a cdc checkpoint");
    return formatLsn(position.lsn);
  };

  it("streams inserts, updates and deletes in commit order, with op, table, rows and LSNs", async () => {
    const { table, slot, config } = await freshTable("shape");
    await admin.query(`CREATE TABLE ${table}_full (id int PRIMARY KEY, name text)`);
    await admin.query(`ALTER TABLE ${table}_full REPLICA IDENTITY FULL`);
    const read = readStream(served, { ...config, tables: [table, `${table}_full`] });
    // The slot exists once the stream has started; what is written after it is streamed.
    while (
      !(await slotState(slot).then(
        (state) => state.active,
        () => false,
      ))
    )
      await new Promise((r) => setTimeout(r, 20));
    await admin.query(
      `INSERT INTO ${table} VALUES (1, 'one', '2026-01-01 10:00:00.123456+00'), (2, 'two', NULL)`,
    );
    await admin.query("BEGIN");
    await admin.query(`UPDATE ${table} SET name = 'uno' WHERE id = 1`);
    await admin.query(`INSERT INTO ${table}_full VALUES (7, 'seven')`);
    await admin.query(`UPDATE ${table}_full SET name = 'siete' WHERE id = 7`);
    await admin.query("COMMIT");
    await admin.query(`DELETE FROM ${table} WHERE id = 2`);
    await admin.query(`DELETE FROM ${table}_full WHERE id = 7`);
    const events = await read.events(7);
    expect(
      events.map((event) => [
        event.type,
        payload(event).table,
        (payload(event).new ?? payload(event).old) as object,
      ]),
    ).toEqual([
      ["postgres.insert", table, { id: 1, name: "one", at: "2026-01-01 10:00:00.123456+00" }],
      ["postgres.insert", table, { id: 2, name: "two", at: null }],
      ["postgres.update", table, { id: 1, name: "uno", at: "2026-01-01 10:00:00.123456+00" }],
      ["postgres.insert", `${table}_full`, { id: 7, name: "seven" }],
      ["postgres.update", `${table}_full`, { id: 7, name: "siete" }],
      ["postgres.delete", table, { id: 2 }],
      ["postgres.delete", `${table}_full`, { id: 7, name: "siete" }],
    ]);
    // Default replica identity: an update without a key change has no old row, a delete only its key.
    expect(payload(events[2] as never).old).toBeNull();
    expect(payload(events[4] as never).old).toEqual({ id: 7, name: "seven" });
    const [first, second, third] = events;
    expect(first).toEqual(
      expect.objectContaining({
        source: `/postgres/postgres/public.${table}`,
        datacontenttype: "application/json",
      }),
    );
    expect(payload(first as never)).toEqual(expect.objectContaining({ op: "insert", schema: "public" }));
    // One transaction: one commit LSN, changes counted from 0; the next transaction another LSN.
    expect(text(first as never, "pglsn")).toBe(text(second as never, "pglsn"));
    expect([text(first as never, "pgseq"), text(second as never, "pgseq")]).toEqual([0, 1]);
    expect(text(third as never, "pglsn")).not.toBe(text(first as never, "pglsn"));
    expect(first?.id).toBe(`${slot}@${text(first as never, "pglsn")}#0`);
    expect([text(first as never, "pgop"), text(first as never, "pgtable")]).toEqual([
      "insert",
      `public.${table}`,
    ]);
    // Every change of a transaction carries that transaction's commit time.
    expect(first?.time).toBeDefined();
    expect(second?.time).toEqual(first?.time);
    await read.end();
  });

  it("confirms the slot only up to a committed checkpoint: never on receipt, never past it", async () => {
    const { table, slot, config } = await freshTable("confirm");
    await publishAndCreateSlot(table, slot);
    const initial = (await slotState(slot)).confirmed;
    for (let id = 1; id <= 6; id += 1) await admin.query(`INSERT INTO ${table} (id) VALUES ($1)`, [id]);
    const read = readStream(served, config, { maxBatchSize: 2 });
    const batches = await read.batchesOf(6);
    expect(batches.flatMap((batch) => batch.events.map((event) => payload(event).new))).toEqual(
      [1, 2, 3, 4, 5, 6].map((id) => ({ id, name: null, at: null })),
    );
    // Received, keepalives answered, nothing committed: the slot has not moved.
    await statusUpdates(slot, 3);
    expect((await slotState(slot)).confirmed).toBe(initial);

    read.commit(batches[0]?.sequence ?? 0n);
    const committed = checkpointLsn(batches[0]?.position ?? Buffer.alloc(0));
    await confirmedBecomes(slot, committed);
    // Later status updates keep it there, though batches after it were received long ago.
    await statusUpdates(slot, 3);
    expect((await slotState(slot)).confirmed).toBe(committed);

    const last = batches[batches.length - 1];
    expect(committed).not.toBe(checkpointLsn(last?.position ?? Buffer.alloc(0)));
    read.commit(last?.sequence ?? 0n);
    await confirmedBecomes(slot, checkpointLsn(last?.position ?? Buffer.alloc(0)));
    await read.end();
  });

  it("resumes after the committed checkpoint, inside a transaction too, skipping everything at or below it", async () => {
    const { table, slot, config } = await freshTable("resume");
    await publishAndCreateSlot(table, slot);
    await admin.query(`INSERT INTO ${table} (id) SELECT generate_series(1, 5)`); // one transaction of 5
    await admin.query(`INSERT INTO ${table} (id) VALUES (6)`);
    await admin.query(`INSERT INTO ${table} (id) VALUES (7)`);
    const firstRun = readStream(served, config, { maxBatchSize: 2 });
    const first = await firstRun.batchesOf(7);
    const rowId = (event: FlowEvent): number => (payload(event).new as { id: number }).id;
    expect(first.flatMap((batch) => batch.events.map(rowId))).toEqual([1, 2, 3, 4, 5, 6, 7]);
    // The first batch ends inside the five-row transaction: its checkpoint counts the changes in it.
    const [committed, resumeAt] = first;
    if (!committed || !resumeAt) throw new Error("fewer than two batches");
    expect(decodeCdcCheckpoint(committed.position)?.partial?.emitted).toBe(committed.events.length);
    firstRun.commit(committed.sequence);
    await confirmedBecomes(slot, checkpointLsn(committed.position));
    await firstRun.end();

    // As after a crash where Core committed the second batch but the slot heard only of the first.
    const after = first.slice(2).flatMap((batch) => batch.events);
    const secondRun = readStream(served, config, { checkpoint: resumeAt.position, maxBatchSize: 10 });
    const again = await secondRun.events(after.length);
    expect(again.map((event) => event.id)).toEqual(after.map((event) => event.id));
    expect(again.map(rowId)).toEqual(after.map(rowId));
    await admin.query(`INSERT INTO ${table} (id) VALUES (8)`);
    expect((await secondRun.events(1)).map((event) => (payload(event).new as { id: number }).id)).toEqual([
      8,
    ]);
    await secondRun.end();
  });

  it("cuts batches to maxBatchBytes inside a transaction and loses no change between them", async () => {
    const { table, slot, config } = await freshTable("bytes");
    await publishAndCreateSlot(table, slot);
    await admin.query(
      `INSERT INTO ${table} (id, name) SELECT n, repeat('x', 100) FROM generate_series(1, 20) AS n`,
    );
    const read = readStream(served, config, { maxBatchSize: 100, maxBatchBytes: 1000, credits: 100 });
    const sizes: number[] = [];
    const ids: number[] = [];
    while (ids.length < 20) {
      const batch = await read.batch();
      sizes.push(batch.events.length);
      ids.push(...batch.events.map((event) => (payload(event).new as { id: number }).id));
    }
    expect(ids).toEqual(Array.from({ length: 20 }, (_, index) => index + 1));
    expect(Math.max(...sizes)).toBeLessThan(20);
    await read.end();
  });

  it("a replication connection cut under it fails the stream UNAVAILABLE; the next resumes after the committed checkpoint", async () => {
    const { table, slot, config } = await freshTable("cut");
    await publishAndCreateSlot(table, slot);
    await admin.query(`INSERT INTO ${table} (id) VALUES (1)`);
    await admin.query(`INSERT INTO ${table} (id) VALUES (2)`);
    const proxy = await startTcpProxy({ host: "127.0.0.1", port: cluster.port });
    let resumeAt: Buffer | undefined;
    try {
      const proxied = new URL(cluster.url);
      proxied.port = String(proxy.port);
      const read = readStream(served, { ...config, url: proxied.toString() }, { maxBatchSize: 1 });
      const [committed] = await read.batchesOf(2);
      resumeAt = committed?.position;
      read.commit(committed?.sequence ?? 0n);
      await confirmedBecomes(slot, checkpointLsn(committed?.position ?? Buffer.alloc(0)));
      proxy.cut();
      expect((await read.reader.status).code).toBe(14);
    } finally {
      await proxy.close();
    }
    while ((await slotState(slot)).active) await new Promise((resolve) => setTimeout(resolve, 20));
    // As Core does: from the committed checkpoint (which may say "one change into the next transaction").
    const again = readStream(served, config, { checkpoint: resumeAt });
    expect((await again.events(1)).map((event) => (payload(event).new as { id: number }).id)).toEqual([2]);
    await again.end();
  });

  it("refuses, for good, a checkpoint of another slot", async () => {
    const { config } = await freshTable("foreign");
    const checkpoint = Buffer.from(JSON.stringify({ kind: "postgres-cdc", slot: "other", lsn: "0/1" }));
    const read = readStream(served, config, { checkpoint });
    const status = await read.reader.status;
    expect(status.code).toBe(9);
    expect(status.details).toContain("replication slot");
  });

  describe("validate-only reaches the server", () => {
    it("accepts a slot and publication that exist, or that it may create", async () => {
      const { table, config } = await freshTable("valid");
      expect((await validateOnly(served, config)).issues).toEqual([]);
      await admin.query(`CREATE PUBLICATION ${table} FOR TABLE ${table}`);
      await admin.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [table]);
      expect(
        (await validateOnly(served, { ...config, createSlot: false, createPublication: false })).issues,
      ).toEqual([]);
    });

    it("reports a missing publication at /publication and a missing slot at /slot when it may not create them", async () => {
      const { config } = await freshTable("missing");
      const response = await validateOnly(served, { ...config, createSlot: false, createPublication: false });
      expect(response.accepted).toBe(false);
      expect(response.issues.map((issue) => issue.path)).toEqual(["/publication", "/slot"]);
    });

    it("reports a table to publish that does not exist at its index in /tables", async () => {
      const { table, config } = await freshTable("tables");
      const response = await validateOnly(served, { ...config, tables: [table, "no_such_table"] });
      expect(response.issues).toEqual([
        expect.objectContaining({
          path: "/tables/1",
          message: expect.stringContaining("no_such_table does not exist"),
        }),
      ]);
    });

    it("reports a user without the REPLICATION attribute at /url", async () => {
      const { config } = await freshTable("role");
      const role = uniqueTestSchema("cdc_role");
      await admin.query(`CREATE ROLE ${role} LOGIN`);
      const url = new URL(cluster.url);
      url.username = role;
      const response = await validateOnly(served, { ...config, url: url.toString() });
      expect(response.issues).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            path: "/url",
            message: expect.stringContaining("replication connection"),
          }),
        ]),
      );
    });

    it("reports an unreachable server at /url", async () => {
      const { config } = await freshTable("unreachable");
      const response = await validateOnly(served, {
        ...config,
        url: "postgres://postgres@127.0.0.1:1/postgres",
      });
      expect(response.issues).toEqual([expect.objectContaining({ path: "/url" })]);
    });

    it("reports a server without wal_level=logical at /mode", async () => {
      const replica = await startPrivatePostgresCluster({ settings: { wal_level: "replica" } });
      try {
        const response = await validateOnly(served, {
          mode: "cdc",
          url: replica.url,
          slot: "flow_never_created",
          publication: "flow_never_created",
          createSlot: true,
        });
        expect(response.issues).toEqual([
          expect.objectContaining({ path: "/mode", message: expect.stringContaining("wal_level=replica") }),
          expect.objectContaining({ path: "/publication" }),
        ]);
      } finally {
        await replica.stop();
      }
    }, 120_000);
  });
});
