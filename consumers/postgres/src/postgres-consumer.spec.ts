import { join } from "node:path";
import { createEvent, serveConsumer, timestampFromRfc3339 } from "@flow/sdk";
import {
  describeSqlConsumer,
  itDescribesItself,
  numbered,
  type SqlConsumerUnderTest,
} from "@flow/sql-rows/test-support";
import {
  ConsumerWriteStream,
  dropSchema,
  serveForTests,
  startTcpProxy,
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

const consumer: SqlConsumerUnderTest = {
  name: "flow-consumer-postgres",
  describe: () => unary<DescribeResponse>((done) => served.client.describe({}, done)),
  open: (config) => new ConsumerWriteStream(served.client, config),
  validate: (config) => validateOnly(served.client, config),
  startTcpProxy,
  Family,
  AckStatus,
  Severity,
};

itDescribesItself(consumer);

withPostgres((url) => {
  const schema = uniqueTestSchema("flow_consumer_pg");
  let db: pg.Client;
  let tables = 0;
  /** A table name of its own for one test, in this file's schema. */
  const table = (): string => `${schema}.t${++tables}`;
  const rows = async <T extends pg.QueryResultRow>(sql: string): Promise<T[]> =>
    (await db.query<T>(sql)).rows;
  const count = async (name: string): Promise<number> =>
    (await rows<{ n: number }>(`SELECT count(*)::int AS n FROM ${name}`))[0]?.n ?? -1;
  /** A table name without its schema. */
  const withoutSchema = (name: string): string => name.split(".")[1] as string;

  beforeAll(async () => {
    db = new pg.Client({ connectionString: url });
    await db.connect();
    await db.query(`CREATE SCHEMA "${schema}"`);
  });
  afterAll(async () => {
    await db.end();
    await dropSchema(url, schema);
  });

  const unknownRole = new URL(url);
  unknownRole.username = "no_such_role_flow";
  describeSqlConsumer(consumer, {
    url,
    port: Number(new URL(url).port || 5432),
    kind: "PostgreSQL",
    at: "127.0.0.1:5432/test",
    urlAt: (port) => `postgres://postgres@127.0.0.1:${port}/test`,
    table,
    query: rows,
    count,
    primaryKey: (name) =>
      rows(
        `SELECT a.attname AS name FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
          WHERE i.indrelid = '${schema}.${withoutSchema(name)}'::regclass AND i.indisprimary`,
      ),
    integer: (expression) => `(${expression})::int`,
    jsonField: (column, field) => `${column}->>'${field}'`,
    orderTable: (name) =>
      `CREATE TABLE ${name} (order_id text PRIMARY KEY, total numeric NOT NULL, customer varchar(3), seen_type text)`,
    unkeyedTable: (name) => `CREATE TABLE ${name} (order_id text, total numeric)`,
    total: (value) => String(value),
    writePaths: [
      { name: "a multi-row INSERT", config: { copyThreshold: 1000 } },
      { name: "COPY", config: { copyThreshold: 1 } },
    ],
    mixedPaths: { name: "through COPY", config: { copyThreshold: 30 } },
    says: {
      tooLong: "value too long for type character varying(3) [SQLSTATE 22001]",
      notANumber: 'invalid input syntax for type numeric: "many" [SQLSTATE 22P02]',
      noTotal: /null value in column "total" .* \[SQLSTATE 23502\]/,
      noSuchTable: /relation .* does not exist \[SQLSTATE 42P01\]/,
      unknownUser: {
        url: unknownRole.toString(),
        says: /role "no_such_role_flow" does not exist \[SQLSTATE 28000\]/,
      },
      unknownDatabase: /database "no_such_database_flow" does not exist \[SQLSTATE 3D000\]/,
      unknownType: 'type "jsonbb" does not exist',
    },
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
          WHERE table_schema = '${schema}' AND table_name = '${withoutSchema(name)}' ORDER BY ordinal_position`,
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

  describe("failures", () => {
    it("never answers WRITTEN for a batch whose COMMIT failed: the connection dies in COMMIT, the retry writes it once", async () => {
      const name = table();
      const bare = withoutSchema(name);
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
  });
});
