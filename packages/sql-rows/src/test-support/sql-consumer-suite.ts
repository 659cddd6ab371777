import { createEvent, type FlowEvent } from "@flow/sdk";

/**
 * The scenarios every SQL consumer of Flow must pass, written once and run by each consumer's spec
 * against its own real server (MariaDB/MySQL, PostgreSQL). A spec serves its consumer, opens its
 * own namespace (a database, a schema) on the server and hands both in; what only one dialect
 * does stays in that dialect's spec.
 *
 * This package has no generated code and no test dependencies: the consumer's side comes in as
 * functions over its generated client (built with @flow/testing in the spec), typed here by the
 * fields the scenarios read.
 */

/** The answer to one batch (a generated BatchAck, as the scenarios read it). */
export interface AckForTests {
  status: number;
  reason: string;
}

/** One Write stream of the consumer (@flow/testing's ConsumerWriteStream). */
export interface SinkForTests {
  write(events: FlowEvent[]): Promise<AckForTests>;
  end(): Promise<unknown>;
}

/** A TCP proxy between the consumer and the server (@flow/testing's startTcpProxy). */
export interface ProxyForTests {
  readonly host: string;
  readonly port: number;
  cut(): void;
  hold(): void;
  restore(): void;
  close(): Promise<void>;
}

/** The consumer under test, served for the calling spec: its gRPC calls and its contract's enums. */
export interface SqlConsumerUnderTest {
  /** The component name Describe answers, e.g. `flow-consumer-postgres`. */
  name: string;
  describe(): Promise<{
    component?:
      | { name: string; family: number; configSchema: string; features?: { idempotent: boolean } | undefined }
      | undefined;
  }>;
  /** A new Write stream with this config. */
  open(config: object): SinkForTests;
  /** Configure in validate-only mode. */
  validate(config: object): Promise<{ accepted: boolean; issues: unknown[] }>;
  startTcpProxy(target: { host: string; port: number }): Promise<ProxyForTests>;
  Family: { FAMILY_CONSUMER: number };
  AckStatus: {
    ACK_STATUS_WRITTEN: number;
    ACK_STATUS_RETRYABLE_FAILURE: number;
    ACK_STATUS_PERMANENT_FAILURE: number;
  };
  Severity: { SEVERITY_ERROR: number };
}

/** What the server says about a value or a statement it refuses: a part of the message, or a pattern. */
export type ServerSays = string | RegExp;

/** A way the consumer writes a batch, and the config that makes it take that way. */
export interface WritePath {
  /** e.g. `a multi-row INSERT`, `COPY` */
  name: string;
  config: object;
}

/**
 * The server under test, as the calling spec set it up: a namespace of the spec's own on it (dropped
 * after the file), a connection to look into it, and what differs between dialects.
 */
export interface SqlServerUnderTest {
  /** The test server's URL. */
  url: string;
  /** Its port, which the failure scenarios put a proxy in front of (on 127.0.0.1). */
  port: number;
  /** How the consumer names this kind of server in what it reports: `PostgreSQL`, `MariaDB/MySQL`. */
  kind: string;
  /** How it names the test server: `127.0.0.1:5432/test`. */
  at: string;
  /** The URL of a server of this kind at 127.0.0.1:`port`, database test. */
  urlAt(port: number): string;
  /** A table name of its own for one test, in the spec's namespace. */
  table(): string;
  /** Runs one statement on the spec's connection; the rows it returns. */
  query(sql: string): Promise<unknown[]>;
  /** How many rows a table holds. */
  count(table: string): Promise<number>;
  /** The names of the primary key's columns, as rows `{ name }`. */
  primaryKey(table: string): Promise<unknown[]>;
  /** `expression` as an integer, read back as a JS number. */
  integer(expression: string): string;
  /** The text of `field` in the JSON column `column`. */
  jsonField(column: string, field: string): string;
  /** CREATE TABLE `name`: order_id (the primary key), total (a number, NOT NULL), customer varchar(3), seen_type. */
  orderTable(name: string): string;
  /** CREATE TABLE `name`: order_id and total, no key. */
  unkeyedTable(name: string): string;
  /** How a total the order table stores reads back (a JS number for an int, a string for numeric). */
  total(value: number): unknown;
  /**
   * The ways the consumer writes a batch (the first is its default); the scenarios about refused rows
   * run through each, and a new stream overwrites a row through the last.
   */
  writePaths: readonly [WritePath, ...WritePath[]];
  /** A config under which one stream's batches take several write paths by their size, and its name. */
  mixedPaths?: WritePath;
  /** What the server says when... */
  says: {
    /** ...customer is "abcd" (varchar(3)), */
    tooLong: ServerSays;
    /** ...total is "many", */
    notANumber: ServerSays;
    /** ...total is missing (NOT NULL), */
    noTotal: ServerSays;
    /** ...the table was dropped (after `refused the batch, nothing of it was committed: `), */
    noSuchTable: RegExp;
    /** ...a user it does not know connects, with that user's URL, */
    unknownUser: { url: string; says: ServerSays };
    /** ...the URL names database no_such_database_flow, */
    unknownDatabase: ServerSays;
    /** ...createTable declares a column of type jsonbb (after `cannot create table <name>: `). */
    unknownType: ServerSays;
  };
}

/** Events gen-`from` to gen-`to`, with data `{ seq }`. */
export const numbered = (from: number, to: number): FlowEvent[] =>
  Array.from({ length: to - from + 1 }, (_, i) =>
    createEvent({ id: `gen-${from + i}`, source: "/gen", type: "n", data: { seq: from + i } }),
  );

/** An order event: its id is the order's. */
const order = (id: string, total: unknown, customer: string): FlowEvent =>
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

/** A matcher for one validation issue whose message contains `message` (or matches it). */
export const issue = (path: string, message: ServerSays, severity: number): unknown =>
  expect.objectContaining({ path, severity, message: mentioning(message) });

const mentioning = (says: ServerSays): unknown =>
  typeof says === "string" ? expect.stringContaining(says) : expect.stringMatching(says);

const escaped = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** `says` after `prefix` (text, taken literally) in one message. */
const after = (prefix: string, says: ServerSays): RegExp =>
  typeof says === "string"
    ? new RegExp(`${escaped(prefix)}${escaped(says)}`)
    : new RegExp(`${escaped(prefix)}${says.source}`, says.flags);

/** The test of Describe, which needs no server. */
export function itDescribesItself(consumer: SqlConsumerUnderTest): void {
  it("describes itself as an idempotent consumer with its config schema", async () => {
    const { component } = await consumer.describe();
    expect(component).toEqual(
      expect.objectContaining({ name: consumer.name, family: consumer.Family.FAMILY_CONSUMER }),
    );
    expect(component?.features?.idempotent).toBe(true);
    expect(JSON.parse(component?.configSchema ?? "{}").required).toEqual(["url", "table"]);
  });
}

/** The scenarios both dialects share; call it where the spec's own server tests are defined. */
export function describeSqlConsumer(consumer: SqlConsumerUnderTest, server: SqlServerUnderTest): void {
  const { AckStatus } = consumer;
  const { url, table, query, count } = server;

  describe("fixed columns", () => {
    const mixed = server.mixedPaths;
    it(`adds no row for an event delivered again: in the same batch, a later batch, a new stream${mixed ? `, ${mixed.name}` : ""}`, async () => {
      const name = table();
      const first = consumer.open({ url, table: name, createTable: true, ...mixed?.config });
      expect((await first.write(numbered(1, 20))).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
      expect((await first.write([...numbered(10, 50), ...numbered(50, 50)])).status).toBe(
        AckStatus.ACK_STATUS_WRITTEN,
      );
      await first.end();
      const replay = consumer.open({ url, table: name, ...mixed?.config });
      expect((await replay.write(numbered(1, 100))).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
      expect((await replay.write(numbered(95, 100))).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
      await replay.end();
      const { integer } = server;
      expect(
        await query(
          `SELECT ${integer("count(*)")} AS stored, ${integer("count(DISTINCT id)")} AS ids,
                  max(${integer(server.jsonField("data", "seq"))}) AS top FROM ${name}`,
        ),
      ).toEqual([{ stored: 100, ids: 100, top: 100 }]);
    });
  });

  describe("columns mapped by expressions", () => {
    const orderTable = async (): Promise<string> => {
      const name = table();
      await query(server.orderTable(name));
      return name;
    };
    const { total } = server;

    it("fills each column from its expression and, with onConflict update, overwrites a stored row", async () => {
      const name = await orderTable();
      const config = { url, table: name, columns: ORDER_COLUMNS, key: ["order_id"], onConflict: "update" };
      const sink = consumer.open(config);
      expect((await sink.write([order("o-1", 10, "abc"), order("o-2", 20, "xy")])).status).toBe(
        AckStatus.ACK_STATUS_WRITTEN,
      );
      // The same order again with a new total, twice in one batch (the last one wins), and on a new
      // stream through the last write path (PostgreSQL: COPY).
      expect(
        (await sink.write([order("o-1", 11, "abc"), order("o-1", 12, "abc"), order("o-3", 30, "z")])).status,
      ).toBe(AckStatus.ACK_STATUS_WRITTEN);
      await sink.end();
      const stored = (o2: number) => [
        { order_id: "o-1", total: total(12), customer: "abc", seen_type: "order" },
        { order_id: "o-2", total: total(o2), customer: "xy", seen_type: "order" },
        { order_id: "o-3", total: total(30), customer: "z", seen_type: "order" },
      ];
      expect(await query(`SELECT * FROM ${name} ORDER BY order_id`)).toEqual(stored(20));
      const last = server.writePaths[server.writePaths.length - 1];
      const again = consumer.open({ ...config, ...last?.config });
      expect((await again.write([order("o-2", 21, "xy")])).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
      await again.end();
      expect(await query(`SELECT * FROM ${name} ORDER BY order_id`)).toEqual(stored(21));
    });

    it("keeps the stored row with onConflict nothing", async () => {
      const name = await orderTable();
      const sink = consumer.open({ url, table: name, columns: ORDER_COLUMNS, key: ["order_id"] });
      expect((await sink.write([order("o-1", 10, "abc")])).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
      expect((await sink.write([order("o-1", 99, "abc")])).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
      await sink.end();
      expect(await query(`SELECT order_id, total FROM ${name}`)).toEqual([
        { order_id: "o-1", total: total(10) },
      ]);
    });

    it.each(server.writePaths.map((path) => [path.name, path.config] as const))(
      `through %s, dead-letters the rows ${server.kind} refuses (never cut, as INSERT IGNORE would) with its reason, and commits the others`,
      async (_, pathConfig) => {
        const name = await orderTable();
        const sink = consumer.open({
          url,
          table: name,
          columns: ORDER_COLUMNS,
          key: ["order_id"],
          ...pathConfig,
        });
        const ack = await sink.write([
          order("o-1", 1, "abc"),
          order("too-long", 2, "abcd"),
          order("not-a-number", "many", "a"),
          order("o-4", 4, "d"),
          createEvent({ id: "no-total", source: "/shop", type: "order", data: { order: "o-5" } }),
        ]);
        expect(ack.status).toBe(AckStatus.ACK_STATUS_PERMANENT_FAILURE);
        expect(ack.reason).toContain(
          `3 event(s) of the batch cannot be stored in ${server.kind} at ${server.at}`,
        );
        expect(ack.reason).toContain("the other 2 row(s) were committed");
        expect(ack.reason).toMatch(after("too-long: ", server.says.tooLong));
        expect(ack.reason).toMatch(after("not-a-number: ", server.says.notANumber));
        expect(ack.reason).toMatch(after("no-total: ", server.says.noTotal));
        await sink.end();
        expect(await query(`SELECT order_id, customer FROM ${name} ORDER BY order_id`)).toEqual([
          { order_id: "o-1", customer: "abc" },
          { order_id: "o-4", customer: "d" },
        ]);
      },
    );

    it("dead-letters an event whose expression fails, with the expression's error", async () => {
      const name = await orderTable();
      const sink = consumer.open({
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
      expect(await query(`SELECT order_id FROM ${name}`)).toEqual([{ order_id: "o-1" }]);
    });

    it("creates a mapped table with the declared types, keyed by the key", async () => {
      const name = table();
      const sink = consumer.open({
        url,
        table: name,
        createTable: true,
        columns: { order_id: "data.order", total: { expression: "data.total", type: "numeric(10,2)" } },
        key: ["order_id"],
      });
      expect((await sink.write([order("o-1", 1.5, "a")])).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
      await sink.end();
      expect(await query(`SELECT * FROM ${name}`)).toEqual([{ order_id: "o-1", total: "1.50" }]);
      expect(await server.primaryKey(name)).toEqual([{ name: "order_id" }]);
    });
  });

  describe("failures", () => {
    let proxy: ProxyForTests;
    let proxied: string;
    beforeEach(async () => {
      proxy = await consumer.startTcpProxy({ host: "127.0.0.1", port: server.port });
      const through = new URL(url);
      through.hostname = proxy.host;
      through.port = String(proxy.port);
      proxied = through.toString();
    });
    afterEach(() => proxy.close());

    it("answers retryable when the connection is cut, holds exactly the WRITTEN batches, and writes the batch on the retry", async () => {
      const name = table();
      const sink = consumer.open({ url: proxied, table: name, createTable: true });
      expect((await sink.write(numbered(1, 10))).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
      proxy.cut();
      const cut = await sink.write(numbered(11, 20));
      expect(cut.status).toBe(AckStatus.ACK_STATUS_RETRYABLE_FAILURE);
      expect(cut.reason).toContain("the batch is retried");
      // While the server cannot be reached, connecting fails: retryable too.
      const unreachable = await sink.write(numbered(11, 20));
      expect(unreachable.status).toBe(AckStatus.ACK_STATUS_RETRYABLE_FAILURE);
      expect(unreachable.reason).toContain(`cannot connect to ${server.kind} at 127.0.0.1`);
      expect(await count(name)).toBe(10);
      proxy.restore();
      expect((await sink.write(numbered(11, 20))).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
      await sink.end();
      expect(await count(name)).toBe(20);
    });

    it("answers retryable when the server stops answering mid-batch (a partition), after statementTimeoutMs", async () => {
      const name = table();
      const sink = consumer.open({ url: proxied, table: name, createTable: true, statementTimeoutMs: 300 });
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

    it(`dead-letters a batch ${server.kind} can never take (the table was dropped) without committing anything`, async () => {
      const name = table();
      const sink = consumer.open({ url, table: name, createTable: true });
      expect((await sink.write(numbered(1, 1))).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
      await query(`DROP TABLE ${name}`);
      const ack = await sink.write(numbered(2, 3));
      expect(ack.status).toBe(AckStatus.ACK_STATUS_PERMANENT_FAILURE);
      expect(ack.reason).toMatch(
        after("refused the batch, nothing of it was committed: ", server.says.noSuchTable),
      );
      await sink.end();
    });
  });

  describe("validate-only reaches the server", () => {
    const issuesOf = async (config: object) => (await consumer.validate(config)).issues;
    const error = (path: string, message: ServerSays) =>
      issue(path, message, consumer.Severity.SEVERITY_ERROR);

    it("accepts a good configuration, and a missing table with createTable", async () => {
      expect(await consumer.validate({ url, table: table(), createTable: true })).toEqual(
        expect.objectContaining({ accepted: true, issues: [] }),
      );
    });

    it("reports an unreachable server, an unknown user and an unknown database at /url", async () => {
      const closed = await consumer.startTcpProxy({ host: "127.0.0.1", port: 1 });
      const port = closed.port;
      await closed.close();
      expect(await issuesOf({ url: server.urlAt(port), table: "t" })).toEqual([
        error("/url", `cannot connect to ${server.kind} at 127.0.0.1:${port}/test: connect ECONNREFUSED`),
      ]);
      const { unknownUser } = server.says;
      expect(await issuesOf({ url: unknownUser.url, table: "t" })).toEqual([error("/url", unknownUser.says)]);
      const unknown = new URL(url);
      unknown.pathname = "/no_such_database_flow";
      expect(await issuesOf({ url: unknown.toString(), table: "t" })).toEqual([
        error("/url", server.says.unknownDatabase),
      ]);
    });

    it("reports a missing table at /table, a mapped column the table lacks at /columns/<name>, no unique key at /key, a table without the event columns", async () => {
      const where = `${server.kind} at ${server.at}`;
      const missing = table();
      expect(await issuesOf({ url, table: missing })).toEqual([
        error("/table", `table ${missing} does not exist in ${where}: create it, or set createTable: true`),
      ]);
      const name = table();
      await query(server.unkeyedTable(name));
      expect(
        await issuesOf({
          url,
          table: name,
          key: ["order_id"],
          columns: { order_id: "data.order", totl: "data.total" },
        }),
      ).toEqual([error("/columns/totl", `table ${name} in ${where} has no column totl`)]);
      expect(
        await issuesOf({ url, table: name, key: ["order_id"], columns: { order_id: "data.order" } }),
      ).toEqual([error("/key", "has no primary key or unique index on exactly (order_id)")]);
      expect(await issuesOf({ url, table: name })).toEqual([
        error("/table", "exists without the column(s) id, type, source, time, attributes, data, data_binary"),
      ]);
    });

    it("reports a column type the server refuses, for createTable, at /columns/<name>/type", async () => {
      const name = table();
      expect(
        await issuesOf({
          url,
          table: name,
          createTable: true,
          key: ["k"],
          columns: { k: "id", v: { expression: "data", type: "jsonbb" } },
        }),
      ).toEqual([error("/columns/v/type", after(`cannot create table ${name}: `, server.says.unknownType))]);
    });

    it("reports a bad expression at /columns/<name> and a key outside the columns at /key/<i>, before reaching the server", async () => {
      expect(
        await issuesOf({
          url: server.urlAt(1),
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
}
