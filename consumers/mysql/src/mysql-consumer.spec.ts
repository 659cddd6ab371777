import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { createEvent, type FlowEvent, serveConsumer, timestampFromRfc3339 } from "@flow/sdk";
import {
  describeSqlConsumer,
  issue,
  itDescribesItself,
  numbered,
  type SqlConsumerUnderTest,
} from "@flow/sql-rows/test-support";
import { ConsumerWriteStream, serveForTests, startTcpProxy, unary, validateOnly } from "@flow/testing";
import mysql from "mysql2/promise";
import { Family, Severity } from "./gen/component/v1/component";
import {
  AckStatus,
  ConsumerServiceClient,
  ConsumerServiceService,
  type DescribeResponse,
} from "./gen/consumer_service/v1/consumer";
import { mysqlConsumer } from "./mysql-consumer";
import { serverOf, startCommandHoldingProxy, urlThrough } from "./test-support/command-holding-proxy";
import { withMariadb } from "./test-support/mariadb-for-tests";

const served = serveForTests(
  serveConsumer,
  mysqlConsumer,
  { service: ConsumerServiceService, packageDir: join(__dirname, "..") },
  ConsumerServiceClient,
);

const consumer: SqlConsumerUnderTest = {
  name: "flow-consumer-mysql",
  describe: () => unary<DescribeResponse>((done) => served.client.describe({}, done)),
  open: (config) => new ConsumerWriteStream(served.client, config),
  validate: (config) => validateOnly(served.client, config),
  startTcpProxy,
  Family,
  AckStatus,
  Severity,
};

itDescribesItself(consumer);

withMariadb((url) => {
  /** A database of this file's own (MariaDB's schemas), dropped after. */
  const database = `flow_consumer_mysql_${process.pid}_${randomBytes(4).toString("hex")}`;
  let db: mysql.Connection;
  let tables = 0;
  const table = (): string => `${database}.t${++tables}`;
  const rows = async <T>(sql: string): Promise<T[]> => (await db.query(sql))[0] as T[];
  const count = async (name: string): Promise<number> =>
    Number((await rows<{ n: number }>(`SELECT count(*) AS n FROM ${name}`))[0]?.n);
  /** A table name without its database. */
  const withoutDatabase = (name: string): string => name.split(".")[1] as string;

  beforeAll(async () => {
    db = await mysql.createConnection({ uri: url, dateStrings: true, timezone: "Z" });
    await db.query(`CREATE DATABASE \`${database}\``);
  });
  afterAll(async () => {
    await db.query(`DROP DATABASE IF EXISTS \`${database}\``);
    await db.end();
  });

  const unknownUser = new URL(url);
  unknownUser.username = "no_such_user_flow";
  unknownUser.password = "wrong";
  describeSqlConsumer(consumer, {
    url,
    port: Number(new URL(url).port || 3306),
    kind: "MariaDB/MySQL",
    at: "127.0.0.1:3306/test",
    urlAt: (port) => `mysql://root@127.0.0.1:${port}/test`,
    table,
    query: rows,
    count,
    primaryKey: (name) =>
      rows(
        `SELECT COLUMN_NAME AS name FROM information_schema.KEY_COLUMN_USAGE
          WHERE TABLE_SCHEMA = '${database}' AND TABLE_NAME = '${withoutDatabase(name)}' AND CONSTRAINT_NAME = 'PRIMARY'
          ORDER BY ORDINAL_POSITION`,
      ),
    integer: (expression) => `CAST(${expression} AS SIGNED)`,
    jsonField: (column, field) => `JSON_VALUE(${column}, '$.${field}')`,
    orderTable: (name) =>
      `CREATE TABLE ${name} (order_id varchar(64) PRIMARY KEY, total int NOT NULL, customer varchar(3), seen_type varchar(64)) ENGINE=InnoDB`,
    unkeyedTable: (name) =>
      `CREATE TABLE ${name} (order_id varchar(64), total int) ENGINE=InnoDB COLLATE=utf8mb4_bin`,
    total: (value) => value,
    writePaths: [{ name: "a multi-row INSERT", config: {} }],
    says: {
      tooLong: "Data too long for column 'customer' at row 1 [ER_DATA_TOO_LONG 1406, SQLSTATE 22001]",
      notANumber:
        /Incorrect integer value: 'many' for column .*total.* \[ER_TRUNCATED_WRONG_VALUE_FOR_FIELD 1366/,
      noTotal: "Column 'total' cannot be null [ER_BAD_NULL_ERROR 1048, SQLSTATE 23000]",
      noSuchTable: /Table .* doesn't exist \[ER_NO_SUCH_TABLE 1146, SQLSTATE 42S02\]/,
      unknownUser: {
        url: unknownUser.toString(),
        says: /Access denied for user 'no_such_user_flow'.*\[ER_ACCESS_DENIED_ERROR 1045/,
      },
      unknownDatabase: /Unknown database 'no_such_database_flow' \[ER_BAD_DB_ERROR 1049/,
      unknownType: "Unknown data type: 'jsonbb'",
    },
  });

  describe("fixed columns", () => {
    it("creates an InnoDB table and writes one row per event: JSON, text as a JSON string, other bytes as a blob", async () => {
      const name = table();
      const sink = new ConsumerWriteStream(served.client, { url, table: name, createTable: true });
      const ack = await sink.write([
        createEvent({
          id: "e-1",
          source: "/shop",
          type: "order.created",
          subject: "o-1",
          time: timestampFromRfc3339("2026-01-02T03:04:05.123456789Z"),
          extensions: { tenant: { value: { $case: "stringValue", value: "acme" } } },
          data: { total: 12.5 },
        }),
        createEvent({ id: "e-2", source: "/shop", type: "note", datacontenttype: "text/plain", data: "hi" }),
        createEvent({
          id: "e-3",
          source: "/shop",
          type: "blob",
          datacontenttype: "image/png",
          data: Buffer.from([0xff, 0]),
        }),
        // Ids that differ only in case are two events: the table's binary collation keeps both.
        createEvent({ id: "E-1", source: "/shop", type: "empty" }),
      ]);
      expect(ack).toMatchObject({ status: AckStatus.ACK_STATUS_WRITTEN, reason: "" });
      await sink.end();
      expect(
        await rows(
          `SELECT id, type, source, time, attributes, data, data_binary, JSON_VALUE(data, '$.total') AS total FROM ${name} ORDER BY id`,
        ),
      ).toEqual([
        expect.objectContaining({ id: "E-1", time: null, data: null, data_binary: null }),
        {
          id: "e-1",
          type: "order.created",
          source: "/shop",
          time: "2026-01-02 03:04:05.123456",
          // mysql2 parses JSON columns.
          attributes: {
            specversion: "1.0",
            subject: "o-1",
            datacontenttype: "application/json",
            tenant: "acme",
          },
          data: { total: 12.5 },
          data_binary: null,
          total: "12.5",
        },
        expect.objectContaining({ id: "e-2", data: "hi", data_binary: null }),
        expect.objectContaining({ id: "e-3", data: null, data_binary: Buffer.from([0xff, 0]) }),
      ]);
      const [facts] = await rows<{ ENGINE: string; TABLE_COLLATION: string }>(
        `SELECT ENGINE, TABLE_COLLATION FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${database}' AND TABLE_NAME = '${withoutDatabase(name)}'`,
      );
      expect(facts).toEqual({ ENGINE: "InnoDB", TABLE_COLLATION: "utf8mb4_bin" });
    });
  });

  describe("failures", () => {
    it("never answers WRITTEN for a batch whose transaction lost its connection: the connection is killed inside it", async () => {
      const name = table();
      await db.query(
        `CREATE TABLE ${name} (id varchar(512) PRIMARY KEY, type text, source text, time datetime(6), attributes json, data json, data_binary longblob) ENGINE=InnoDB`,
      );
      // The trigger makes the consumer's INSERT wait for a lock this test holds, so the test can
      // KILL its connection while the batch's transaction is open.
      const lock = `flow_${randomBytes(4).toString("hex")}`;
      await db.query(
        `CREATE TRIGGER ${name}_wait BEFORE INSERT ON ${name} FOR EACH ROW SET @flow_got = GET_LOCK('${lock}', 30)`,
      );
      await db.query("SELECT GET_LOCK(?, 5)", [lock]);
      const sink = new ConsumerWriteStream(served.client, { url, table: name });
      const pending = sink.write(numbered(1, 5));
      let waiting: { id: number } | undefined;
      while (!waiting) {
        [waiting] = await rows<{ id: number }>(
          `SELECT ID AS id FROM information_schema.PROCESSLIST WHERE STATE = 'User lock' AND INFO LIKE '%${lock}%' AND ID <> CONNECTION_ID()`,
        );
      }
      await db.query(`KILL ${waiting.id}`);
      const failed = await pending;
      await db.query("SELECT RELEASE_LOCK(?)", [lock]);
      expect(failed.status).toBe(AckStatus.ACK_STATUS_RETRYABLE_FAILURE);
      expect(await count(name)).toBe(0);
      await db.query(`DROP TRIGGER ${name}_wait`);
      expect((await sink.write(numbered(1, 5))).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
      await sink.end();
      expect(await count(name)).toBe(5);
    });
  });

  describe("a server silent right after the handshake", () => {
    /** A user of this file's own, with a password the answer must not show; dropped after. */
    const user = `flow_setup_${randomBytes(4).toString("hex")}`;
    const password = `secret-${randomBytes(8).toString("hex")}`;
    const testDatabase = new URL(url).pathname.slice(1);
    beforeAll(async () => {
      await db.query("CREATE USER ?@'%' IDENTIFIED BY ?", [user, password]);
      await db.query(`GRANT SELECT ON \`${testDatabase}\`.* TO ?@'%'`, [user]);
    });
    afterAll(() => db.query("DROP USER IF EXISTS ?@'%'", [user]));

    it("answers retryable within statementTimeoutMs, naming the server and the setting but not the password", async () => {
      const proxy = await startCommandHoldingProxy(serverOf(url));
      try {
        const through = new URL(urlThrough(url, proxy));
        through.username = user;
        through.password = password;
        const sink = new ConsumerWriteStream(served.client, {
          url: through.toString(),
          table: table(),
          createTable: true,
          statementTimeoutMs: 200,
        });
        const ack = await sink.write(numbered(1, 3));
        expect(await proxy.held).toMatch(/^SET SESSION/);
        expect(ack).toMatchObject({
          status: AckStatus.ACK_STATUS_RETRYABLE_FAILURE,
          reason: expect.stringContaining(
            `cannot connect to MariaDB/MySQL at 127.0.0.1:${proxy.port}/${testDatabase}: no answer to the session's setup (SET SESSION) within statementTimeoutMs (200 ms)`,
          ),
        });
        expect(ack.reason).not.toContain(password);
        await sink.end();
      } finally {
        await proxy.close();
      }
    });
  });

  describe("the server's max_allowed_packet", () => {
    const MIB = 1024 * 1024;
    const text = (id: string, bytes: number): FlowEvent =>
      createEvent({
        id,
        source: "/big",
        type: "big",
        datacontenttype: "text/plain",
        data: "x".repeat(bytes),
      });
    /** The server's limit on one statement, which the batches below are sized against. */
    const maxAllowedPacket = async (): Promise<number> =>
      Number((await rows<{ m: number }>("SELECT @@GLOBAL.max_allowed_packet AS m"))[0]?.m);
    /** These tests send up to twice the limit in one batch, which must stay below the SDK's 64 MiB. */
    const usable = (limit: number): boolean => {
      if (limit <= 24 * MIB) return true;
      const why = `max_allowed_packet is ${limit} here: a batch over it would pass the 64 MiB gRPC limit`;
      if (process.env.CI === "true") throw new Error(why);
      console.warn(`SKIPPED: ${why}`);
      return false;
    };

    it("writes a batch larger than max_allowed_packet, in statements under it", async () => {
      const limit = await maxAllowedPacket();
      if (!usable(limit)) return;
      const name = table();
      const rowsSent = Math.ceil((limit * 1.5) / MIB);
      const sink = new ConsumerWriteStream(served.client, { url, table: name, createTable: true });
      const ack = await sink.write(Array.from({ length: rowsSent }, (_, i) => text(`big-${i}`, MIB)));
      await sink.end();
      expect(ack).toMatchObject({ status: AckStatus.ACK_STATUS_WRITTEN, reason: "" });
      expect(await count(name)).toBe(rowsSent);
    });

    it("dead-letters an event whose row alone is over max_allowed_packet, naming it, and commits the others", async () => {
      const limit = await maxAllowedPacket();
      if (!usable(limit)) return;
      const name = table();
      const sink = new ConsumerWriteStream(served.client, { url, table: name, createTable: true });
      const ack = await sink.write([
        text("fits-1", 1000),
        text("too-big", limit + MIB),
        text("fits-2", 1000),
      ]);
      // The connection is not lost over it: the next batch is written on it.
      const next = await sink.write([text("fits-3", 1000)]);
      await sink.end();
      expect(ack).toMatchObject({
        status: AckStatus.ACK_STATUS_PERMANENT_FAILURE,
        reason: expect.stringMatching(
          new RegExp(
            `1 event\\(s\\).*other 2 row\\(s\\) were committed.*too-big: .*max_allowed_packet \\(${limit}\\)`,
          ),
        ),
      });
      expect(next.status).toBe(AckStatus.ACK_STATUS_WRITTEN);
      expect((await rows<{ id: string }>(`SELECT id FROM ${name} ORDER BY id`)).map((row) => row.id)).toEqual(
        ["fits-1", "fits-2", "fits-3"],
      );
    });
  });

  describe("validate-only reaches the server", () => {
    const issuesOf = async (config: object) => (await validateOnly(served.client, config)).issues;

    it("reports a table without transactions (MyISAM) at /table", async () => {
      const myisam = table();
      await db.query(
        `CREATE TABLE ${myisam} (order_id varchar(64) COLLATE utf8mb4_bin PRIMARY KEY) ENGINE=MyISAM`,
      );
      expect(
        await issuesOf({ url, table: myisam, key: ["order_id"], columns: { order_id: "data.order" } }),
      ).toEqual([
        issue("/table", "uses the MyISAM engine, which has no transactions", Severity.SEVERITY_ERROR),
      ]);
    });

    it("warns when the key compares case-insensitively, so ids differing in case would collide", async () => {
      const name = table();
      await db.query(
        `CREATE TABLE ${name} (order_id varchar(64) COLLATE utf8mb4_general_ci PRIMARY KEY) ENGINE=InnoDB`,
      );
      expect(
        await validateOnly(served.client, {
          url,
          table: name,
          key: ["order_id"],
          columns: { order_id: "id" },
        }),
      ).toEqual(
        expect.objectContaining({
          accepted: true,
          issues: [issue("/key", "order_id of", Severity.SEVERITY_WARNING)],
        }),
      );
    });
  });
});
