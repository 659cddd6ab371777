import { join } from "node:path";
import { createEvent, type FlowEvent, serveConsumer, timestampFromRfc3339 } from "@flow/sdk";
import {
  ConsumerWriteStream,
  dropSchema,
  serveForTests,
  startTcpProxy,
  type TcpProxy,
  unary,
  uniqueTestSchema,
  validateOnly,
  withPostgres,
} from "@flow/testing";
import pg from "pg";
import { Family, Severity } from "./gen/component/v1/component";
import {
  AckStatus,
  ConsumerServiceClient,
  ConsumerServiceService,
  type DescribeResponse,
} from "./gen/consumer_service/v1/consumer";
import { postgresConsumer } from "./postgres-consumer";

const served = serveForTests(
  serveConsumer,
  postgresConsumer,
  { service: ConsumerServiceService, packageDir: join(__dirname, "..") },
  ConsumerServiceClient,
);

const numbered = (from: number, to: number): FlowEvent[] =>
  Array.from({ length: to - from + 1 }, (_, i) =>
    createEvent({ id: `gen-${from + i}`, source: "/gen", type: "n", data: { seq: from + i } }),
  );

const order = (id: string, total: number, customer: string): FlowEvent =>
  createEvent({
    id,
    source: "/shop",
    type: "order",
    data: { order: id, total, customer: { code: customer } },
  });

/** The mapping of the order tests: a column per expression. */
const ORDER_COLUMNS = {
  order_id: "data.order",
  total: "data.total",
  customer: "data.customer.code",
  seen_type: "type",
};

it("describes itself as an idempotent consumer with its config schema", async () => {
  const { component } = await unary<DescribeResponse>((done) => served.client.describe({}, done));
  expect(component).toEqual(
    expect.objectContaining({ name: "flow-consumer-postgres", family: Family.FAMILY_CONSUMER }),
  );
  expect(component?.features?.idempotent).toBe(true);
  expect(JSON.parse(component?.configSchema ?? "{}").required).toEqual(["url", "table"]);
});

withPostgres((url) => {
  const schema = uniqueTestSchema("flow_consumer_pg");
  let db: pg.Client;
  let tables = 0;
  /** A table name of its own for one test, in this file's schema. */
  const table = (): string => `${schema}.t${++tables}`;
  const rows = async <T extends pg.QueryResultRow>(sql: string): Promise<T[]> =>
    (await db.query<T>(sql)).rows;

  beforeAll(async () => {
    db = new pg.Client({ connectionString: url });
    await db.connect();
    await db.query(`CREATE SCHEMA "${schema}"`);
  });
  afterAll(async () => {
    await db.end();
    await dropSchema(url, schema);
  });

  describe("fixed columns", () => {
    it("creates the table and writes one row per event: JSON as jsonb, text as a JSON string, other bytes as bytea", async () => {
      const name = table();
      const sink = new ConsumerWriteStream(served.client, { url, table: name, createTable: true });
      const ack = await sink.write([
        createEvent({
          id: "e-1",
          source: "/shop",
          type: "order.created",
          subject: "o-1",
          time: timestampFromRfc3339("2026-01-02T03:04:05.123456789Z"),
          dataschema: "https://example.com/order",
          extensions: { tenant: { value: { $case: "stringValue", value: "acme" } } },
          data: { total: 12.5, lines: [1, 2] },
        }),
        createEvent({
          id: "e-2",
          source: "/shop",
          type: "note",
          datacontenttype: "text/plain",
          data: "hi\tthere",
        }),
        createEvent({
          id: "e-3",
          source: "/shop",
          type: "blob",
          datacontenttype: "application/octet-stream",
          data: Buffer.from([0xff, 0x00]),
        }),
        createEvent({ id: "e-4", source: "/shop", type: "empty" }),
      ]);
      expect(ack).toMatchObject({ sequence: 1n, status: AckStatus.ACK_STATUS_WRITTEN, reason: "" });
      await sink.end();

      const stored = await rows(
        `SELECT id, type, source, to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS time,
                attributes, data, data_binary, data->>'total' AS total FROM ${name} ORDER BY id`,
      );
      expect(stored).toEqual([
        {
          id: "e-1",
          type: "order.created",
          source: "/shop",
          time: "2026-01-02T03:04:05.123456",
          attributes: {
            specversion: "1.0",
            subject: "o-1",
            datacontenttype: "application/json",
            dataschema: "https://example.com/order",
            tenant: "acme",
          },
          data: { total: 12.5, lines: [1, 2] },
          data_binary: null,
          total: "12.5",
        },
        expect.objectContaining({ id: "e-2", data: "hi\tthere", data_binary: null }),
        expect.objectContaining({ id: "e-3", data: null, data_binary: Buffer.from([0xff, 0x00]) }),
        expect.objectContaining({ id: "e-4", data: null, data_binary: null, time: null }),
      ]);
      const types = await rows<{ column_name: string; data_type: string }>(
        `SELECT column_name, data_type FROM information_schema.columns
          WHERE table_schema = '${schema}' AND table_name = '${name.split(".")[1]}' ORDER BY ordinal_position`,
      );
      expect(types.map((column) => `${column.column_name} ${column.data_type}`)).toEqual([
        "id text",
        "type text",
        "source text",
        "time timestamp with time zone",
        "attributes jsonb",
        "data jsonb",
        "data_binary bytea",
      ]);
    });

    it("stores the same values through COPY and through INSERT, for every kind of payload", async () => {
      const events = [
        ...numbered(1, 3),
        createEvent({
          id: "t",
          source: "/s",
          type: "x",
          datacontenttype: "text/plain",
          data: "a\\b\nc\r\td",
        }),
        createEvent({
          id: "b",
          source: "/s",
          type: "x",
          datacontenttype: "image/png",
          data: Buffer.from([0, 92, 9, 10]),
        }),
        createEvent({ id: "j", source: "/s", type: "x", data: { quote: '"\\', nl: "x\ny" } }),
        createEvent({ id: "n", source: "/s", type: "x", time: timestampFromRfc3339("2026-05-01T10:00:00Z") }),
      ];
      const viaInsert = table();
      const viaCopy = table();
      for (const [name, copyThreshold] of [
        [viaInsert, 1000],
        [viaCopy, 1],
      ] as const) {
        const sink = new ConsumerWriteStream(served.client, {
          url,
          table: name,
          createTable: true,
          copyThreshold,
        });
        expect((await sink.write(events)).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
        await sink.end();
      }
      const select = (name: string) => rows(`SELECT * FROM ${name} ORDER BY id`);
      const copied = await select(viaCopy);
      expect(copied).toHaveLength(events.length);
      expect(copied).toEqual(await select(viaInsert));
    });

    it("adds no row for an event delivered again: in the same batch, a later batch, a new stream, through COPY", async () => {
      const name = table();
      const first = new ConsumerWriteStream(served.client, {
        url,
        table: name,
        createTable: true,
        copyThreshold: 30,
      });
      expect((await first.write(numbered(1, 20))).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
      expect((await first.write([...numbered(10, 50), ...numbered(50, 50)])).status).toBe(
        AckStatus.ACK_STATUS_WRITTEN,
      );
      await first.end();
      const replay = new ConsumerWriteStream(served.client, { url, table: name, copyThreshold: 30 });
      expect((await replay.write(numbered(1, 100))).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
      expect((await replay.write(numbered(95, 100))).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
      await replay.end();
      expect(
        await rows(
          `SELECT count(*)::int AS rows, count(DISTINCT id)::int AS ids, max((data->>'seq')::int) AS top FROM ${name}`,
        ),
      ).toEqual([{ rows: 100, ids: 100, top: 100 }]);
    });

    it("dead-letters an event whose JSON PostgreSQL refuses (\\u0000 in jsonb), naming it and the server's reason, and commits the others", async () => {
      const name = table();
      const sink = new ConsumerWriteStream(served.client, { url, table: name, createTable: true });
      const bad = createEvent({ id: "nul", source: "/s", type: "x", data: { text: "a\u0000b" } });
      const ack = await sink.write([...numbered(1, 2), bad, ...numbered(3, 4)]);
      expect(ack.status).toBe(AckStatus.ACK_STATUS_PERMANENT_FAILURE);
      expect(ack.reason).toContain("1 event(s) of the batch cannot be stored");
      expect(ack.reason).toContain("the other 4 row(s) were committed");
      expect(ack.reason).toMatch(/nul: unsupported Unicode escape sequence.*\[SQLSTATE 22P05\]/);
      await sink.end();
      expect((await rows<{ id: string }>(`SELECT id FROM ${name} ORDER BY id`)).map((row) => row.id)).toEqual(
        ["gen-1", "gen-2", "gen-3", "gen-4"],
      );
    });
  });

  describe("columns mapped by expressions", () => {
    const orderTable = async (): Promise<string> => {
      const name = table();
      await db.query(
        `CREATE TABLE ${name} (order_id text PRIMARY KEY, total numeric NOT NULL, customer varchar(3), seen_type text)`,
      );
      return name;
    };

    it("fills each column from its expression and, with onConflict update, overwrites a stored row", async () => {
      const name = await orderTable();
      const config = { url, table: name, columns: ORDER_COLUMNS, key: ["order_id"], onConflict: "update" };
      const sink = new ConsumerWriteStream(served.client, config);
      expect((await sink.write([order("o-1", 10, "abc"), order("o-2", 20, "xy")])).status).toBe(
        AckStatus.ACK_STATUS_WRITTEN,
      );
      // The same order again with a new total, twice in one batch (the last one wins), and through COPY.
      expect(
        (await sink.write([order("o-1", 11, "abc"), order("o-1", 12, "abc"), order("o-3", 30, "z")])).status,
      ).toBe(AckStatus.ACK_STATUS_WRITTEN);
      await sink.end();
      const copy = new ConsumerWriteStream(served.client, { ...config, copyThreshold: 1 });
      expect((await copy.write([order("o-2", 21, "xy")])).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
      await copy.end();
      expect(await rows(`SELECT * FROM ${name} ORDER BY order_id`)).toEqual([
        { order_id: "o-1", total: "12", customer: "abc", seen_type: "order" },
        { order_id: "o-2", total: "21", customer: "xy", seen_type: "order" },
        { order_id: "o-3", total: "30", customer: "z", seen_type: "order" },
      ]);
    });

    it("keeps the stored row with onConflict nothing", async () => {
      const name = await orderTable();
      const sink = new ConsumerWriteStream(served.client, {
        url,
        table: name,
        columns: ORDER_COLUMNS,
        key: ["order_id"],
      });
      expect((await sink.write([order("o-1", 10, "abc")])).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
      expect((await sink.write([order("o-1", 99, "abc")])).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
      await sink.end();
      expect(await rows(`SELECT order_id, total FROM ${name}`)).toEqual([{ order_id: "o-1", total: "10" }]);
    });

    it.each([
      ["a multi-row INSERT", 1000],
      ["COPY", 1],
    ])(
      "through %s, dead-letters the rows PostgreSQL refuses with its reason and commits the others",
      async (_, copyThreshold) => {
        const name = await orderTable();
        const sink = new ConsumerWriteStream(served.client, {
          url,
          table: name,
          columns: ORDER_COLUMNS,
          key: ["order_id"],
          copyThreshold,
        });
        const ack = await sink.write([
          order("o-1", 1, "abc"),
          order("too-long", 2, "abcd"),
          order("o-3", 3, "c"),
          createEvent({ id: "no-total", source: "/shop", type: "order", data: { order: "o-4" } }),
        ]);
        expect(ack.status).toBe(AckStatus.ACK_STATUS_PERMANENT_FAILURE);
        expect(ack.reason).toContain(
          "2 event(s) of the batch cannot be stored in PostgreSQL at 127.0.0.1:5432/test",
        );
        expect(ack.reason).toContain("the other 2 row(s) were committed");
        expect(ack.reason).toContain(
          "too-long: value too long for type character varying(3) [SQLSTATE 22001]",
        );
        expect(ack.reason).toMatch(/no-total: null value in column "total" .* \[SQLSTATE 23502\]/);
        await sink.end();
        expect(await rows(`SELECT order_id FROM ${name} ORDER BY order_id`)).toEqual([
          { order_id: "o-1" },
          { order_id: "o-3" },
        ]);
      },
    );

    it("dead-letters an event whose expression fails, with the expression's error", async () => {
      const name = await orderTable();
      const sink = new ConsumerWriteStream(served.client, {
        url,
        table: name,
        columns: { ...ORDER_COLUMNS, total: "$number(data.total)" },
        key: ["order_id"],
      });
      const ack = await sink.write([
        order("o-1", 1, "a"),
        createEvent({ id: "nan", source: "/shop", type: "order", data: { order: "o-2", total: "many" } }),
      ]);
      expect(ack.status).toBe(AckStatus.ACK_STATUS_PERMANENT_FAILURE);
      expect(ack.reason).toMatch(
        /nan: column total: Unable to cast value to a number: "many" \[D3030 at position \d+\]/,
      );
      await sink.end();
      expect(await rows(`SELECT order_id FROM ${name}`)).toEqual([{ order_id: "o-1" }]);
    });

    it("creates a mapped table with the declared types, keyed by the key", async () => {
      const name = table();
      const sink = new ConsumerWriteStream(served.client, {
        url,
        table: name,
        createTable: true,
        columns: { order_id: "data.order", total: { expression: "data.total", type: "numeric(10,2)" } },
        key: ["order_id"],
      });
      expect((await sink.write([order("o-1", 1.5, "a")])).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
      await sink.end();
      expect(await rows(`SELECT * FROM ${name}`)).toEqual([{ order_id: "o-1", total: "1.50" }]);
      const [bare] = name.split(".").slice(1);
      expect(
        await rows(
          `SELECT a.attname AS name FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
            WHERE i.indrelid = '${schema}.${bare}'::regclass AND i.indisprimary`,
        ),
      ).toEqual([{ name: "order_id" }]);
    });
  });

  describe("failures", () => {
    let proxy: TcpProxy;
    let proxied: string;
    beforeEach(async () => {
      proxy = await startTcpProxy({ host: "127.0.0.1", port: Number(new URL(url).port || 5432) });
      const through = new URL(url);
      through.hostname = proxy.host;
      through.port = String(proxy.port);
      proxied = through.toString();
    });
    afterEach(() => proxy.close());

    const count = async (name: string): Promise<number> =>
      (await rows<{ n: number }>(`SELECT count(*)::int AS n FROM ${name}`))[0]?.n ?? -1;

    it("answers retryable when the connection is cut, holds exactly the WRITTEN batches, and writes the batch on the retry", async () => {
      const name = table();
      const sink = new ConsumerWriteStream(served.client, { url: proxied, table: name, createTable: true });
      expect((await sink.write(numbered(1, 10))).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
      proxy.cut();
      const cut = await sink.write(numbered(11, 20));
      expect(cut.status).toBe(AckStatus.ACK_STATUS_RETRYABLE_FAILURE);
      expect(cut.reason).toContain("the batch is retried");
      // While the server cannot be reached, connecting fails: retryable too.
      const unreachable = await sink.write(numbered(11, 20));
      expect(unreachable).toMatchObject({ status: AckStatus.ACK_STATUS_RETRYABLE_FAILURE });
      expect(unreachable.reason).toContain("cannot connect to PostgreSQL at 127.0.0.1");
      expect(await count(name)).toBe(10);
      proxy.restore();
      expect((await sink.write(numbered(11, 20))).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
      await sink.end();
      expect(await count(name)).toBe(20);
    });

    it("answers retryable when the server stops answering mid-batch (a partition), after statementTimeoutMs", async () => {
      const name = table();
      const sink = new ConsumerWriteStream(served.client, {
        url: proxied,
        table: name,
        createTable: true,
        statementTimeoutMs: 300,
      });
      expect((await sink.write(numbered(1, 5))).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
      proxy.hold();
      const held = await sink.write(numbered(6, 10));
      expect(held.status).toBe(AckStatus.ACK_STATUS_RETRYABLE_FAILURE);
      expect(held.reason).toMatch(/timeout/i);
      proxy.cut();
      proxy.restore();
      expect((await sink.write(numbered(6, 10))).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
      await sink.end();
      expect(await count(name)).toBe(10);
    });

    it("never answers WRITTEN for a batch whose COMMIT failed: the connection dies in COMMIT, the retry writes it once", async () => {
      const name = table();
      const bare = name.split(".")[1] as string;
      await db.query(
        `CREATE TABLE ${name} (id text PRIMARY KEY, type text, source text, time timestamptz, attributes jsonb, data jsonb, data_binary bytea)`,
      );
      // A deferred constraint trigger runs inside COMMIT: while the switch is on it ends the
      // consumer's own backend, so COMMIT never completes and nothing of the batch is committed.
      await db.query(`CREATE TABLE ${schema}.${bare}_switch (armed boolean NOT NULL)`);
      await db.query(`INSERT INTO ${schema}.${bare}_switch VALUES (true)`);
      await db.query(`CREATE FUNCTION ${schema}.${bare}_die() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF (SELECT armed FROM ${schema}.${bare}_switch) THEN PERFORM pg_terminate_backend(pg_backend_pid()); END IF;
          RETURN NULL;
        END $$`);
      await db.query(`CREATE CONSTRAINT TRIGGER die_in_commit AFTER INSERT ON ${name}
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ${schema}.${bare}_die()`);
      const sink = new ConsumerWriteStream(served.client, { url, table: name });
      const failed = await sink.write(numbered(1, 5));
      expect(failed.status).toBe(AckStatus.ACK_STATUS_RETRYABLE_FAILURE);
      expect(await count(name)).toBe(0);
      await db.query(`UPDATE ${schema}.${bare}_switch SET armed = false`);
      expect((await sink.write(numbered(1, 5))).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
      await sink.end();
      expect(await count(name)).toBe(5);
    });

    it("dead-letters a batch PostgreSQL can never take (the table was dropped) without committing anything", async () => {
      const name = table();
      const sink = new ConsumerWriteStream(served.client, { url, table: name, createTable: true });
      expect((await sink.write(numbered(1, 1))).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
      await db.query(`DROP TABLE ${name}`);
      const ack = await sink.write(numbered(2, 3));
      expect(ack.status).toBe(AckStatus.ACK_STATUS_PERMANENT_FAILURE);
      expect(ack.reason).toMatch(
        /refused the batch, nothing of it was committed: relation .* does not exist \[SQLSTATE 42P01\]/,
      );
      await sink.end();
    });
  });

  describe("validate-only reaches the server", () => {
    const issuesOf = async (config: object) => (await validateOnly(served.client, config)).issues;
    const error = (path: string, message: string | RegExp) =>
      expect.objectContaining({
        path,
        severity: Severity.SEVERITY_ERROR,
        message:
          typeof message === "string" ? expect.stringContaining(message) : expect.stringMatching(message),
      });

    it("accepts a good configuration, and a missing table with createTable", async () => {
      expect(await validateOnly(served.client, { url, table: table(), createTable: true })).toEqual(
        expect.objectContaining({ accepted: true, issues: [] }),
      );
    });

    it("reports an unreachable server, an unknown role and an unknown database at /url", async () => {
      const closed = await startTcpProxy({ host: "127.0.0.1", port: 1 });
      const port = closed.port;
      await closed.close();
      expect(await issuesOf({ url: `postgres://postgres@127.0.0.1:${port}/test`, table: "t" })).toEqual([
        error("/url", `cannot connect to PostgreSQL at 127.0.0.1:${port}/test: connect ECONNREFUSED`),
      ]);
      const role = new URL(url);
      role.username = "no_such_role_flow";
      expect(await issuesOf({ url: role.toString(), table: "t" })).toEqual([
        error("/url", /role "no_such_role_flow" does not exist \[SQLSTATE 28000\]/),
      ]);
      const database = new URL(url);
      database.pathname = "/no_such_database_flow";
      expect(await issuesOf({ url: database.toString(), table: "t" })).toEqual([
        error("/url", /database "no_such_database_flow" does not exist \[SQLSTATE 3D000\]/),
      ]);
    });

    it("reports a missing table at /table, a mapped column the table lacks at /columns/<name>, no unique key at /key", async () => {
      const missing = table();
      expect(await issuesOf({ url, table: missing })).toEqual([
        error(
          "/table",
          `table ${missing} does not exist in PostgreSQL at 127.0.0.1:5432/test: create it, or set createTable: true`,
        ),
      ]);
      const name = table();
      await db.query(`CREATE TABLE ${name} (order_id text, total numeric)`);
      expect(
        await issuesOf({
          url,
          table: name,
          key: ["order_id"],
          columns: { order_id: "data.order", totl: "data.total" },
        }),
      ).toEqual([
        error("/columns/totl", `table ${name} in PostgreSQL at 127.0.0.1:5432/test has no column totl`),
      ]);
      expect(
        await issuesOf({ url, table: name, key: ["order_id"], columns: { order_id: "data.order" } }),
      ).toEqual([error("/key", "has no primary key or unique index on exactly (order_id)")]);
      expect(await issuesOf({ url, table: name })).toEqual([
        error("/table", "exists without the column(s) id, type, source, time, attributes, data, data_binary"),
      ]);
    });

    it("reports a column type the server does not know, for createTable, at /columns/<name>/type", async () => {
      expect(
        await issuesOf({
          url,
          table: table(),
          createTable: true,
          key: ["k"],
          columns: { k: "id", v: { expression: "data", type: "jsonbb" } },
        }),
      ).toEqual([error("/columns/v/type", 'type "jsonbb" does not exist')]);
    });

    it("reports a bad expression at /columns/<name> and a key outside the columns at /key/<i>, before reaching the server", async () => {
      expect(
        await issuesOf({
          url: "postgres://postgres@127.0.0.1:1/none",
          table: "t",
          key: ["id", "order_id"],
          columns: { order_id: "data.order", total: "data.(" },
        }),
      ).toEqual([
        error("/columns/total", "JSONata syntax error"),
        error("/key/0", "key column id is not one of the row's columns (order_id, total)"),
      ]);
    });
  });
});
