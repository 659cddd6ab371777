import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEvent, type FlowEvent, serveConsumer, timestampFromRfc3339 } from "@flow/sdk";
import {
  type ConsumerWriteClient,
  ConsumerWriteStream,
  describeWithStrace,
  describeWithTmpfs,
  fillFileSystem,
  grpcMessageFrame,
  type MountedTmpfs,
  mountTmpfs,
  serveForTests,
  syncsBeforeReplies,
  traceService,
  unary,
  validateOnly,
  WRITE_AND_SYNC_SYSCALLS,
} from "@flow/testing";
import { credentials, status } from "@grpc/grpc-js";
import Database from "better-sqlite3";
import { Family, Severity } from "./gen/component/v1/component";
import {
  AckStatus,
  ConsumerServiceClient,
  ConsumerServiceService,
  type DescribeResponse,
  WriteResponse,
} from "./gen/consumer_service/v1/consumer";
import { sqliteConsumer } from "./sqlite-consumer";

const served = serveForTests(
  serveConsumer,
  sqliteConsumer,
  { service: ConsumerServiceService, packageDir: join(__dirname, "..") },
  ConsumerServiceClient,
);

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "flow-consumer-sqlite-"));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const configure = (config: object) => validateOnly(served.client, config, "db");

/** A Write stream (on the in-process service unless another client is given). */
const open = (config: object, client: ConsumerWriteClient<FlowEvent, WriteResponse> = served.client) =>
  new ConsumerWriteStream(client, config, { stageId: "db" });

/** Reads the database the way an operator would, with its own connection. */
function query<T>(path: string, sql: string): T[] {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

const numbered = (from: number, to: number): FlowEvent[] =>
  Array.from({ length: to - from + 1 }, (_, i) =>
    createEvent({ id: `gen-${from + i}`, source: "/gen", type: "n", data: { seq: from + i } }),
  );

describe("sqlite consumer over gRPC", () => {
  it("describes itself as idempotent with the vendored contract version and its config schema", async () => {
    const { component } = await unary<DescribeResponse>((done) => served.client.describe({}, done));
    expect(component).toEqual(
      expect.objectContaining({
        name: "flow-consumer-sqlite",
        family: Family.FAMILY_CONSUMER,
        contracts: [expect.objectContaining({ name: "consumer_service", major: 1, minor: 0, patch: 1 })],
      }),
    );
    expect(component?.features?.idempotent).toBe(true);
    expect(JSON.parse(component?.configSchema ?? "{}").properties.table.default).toBe("events");
  });

  it("reports an unwritable path, a bad table name and a foreign table in validate-only mode", async () => {
    const blocker = join(dir, "not-a-folder");
    writeFileSync(blocker, "");
    const under = join(blocker, "flow.db");
    const unwritable = await configure({ path: under });
    expect(unwritable.accepted).toBe(false);
    expect(unwritable.issues).toEqual([
      expect.objectContaining({
        path: "/path",
        message: `cannot create ${under}: ${blocker} is not a folder`,
        severity: Severity.SEVERITY_ERROR,
      }),
    ]);

    const folder = await configure({ path: dir });
    expect(folder.issues).toEqual([
      expect.objectContaining({ path: "/path", message: `${dir} exists and is not a file` }),
    ]);

    const text = join(dir, "notes.txt");
    writeFileSync(
      text,
      "these are not the pages of a database, just some text that is long enough to be read".repeat(20),
    );
    const notDatabase = await configure({ path: text });
    expect(notDatabase.issues).toEqual([
      expect.objectContaining({
        path: "/path",
        message: expect.stringContaining(`${text} is not a usable SQLite database`),
      }),
    ]);

    const badName = await configure({ path: join(dir, "x.db"), table: "events; DROP TABLE x" });
    expect(badName.issues).toEqual([expect.objectContaining({ path: "/table" })]);
    const reserved = await configure({ path: join(dir, "x.db"), table: "sqlite_events" });
    expect(reserved.issues).toEqual([
      expect.objectContaining({ path: "/table", message: expect.stringContaining("reserved") }),
    ]);

    const foreign = join(dir, "foreign.db");
    const db = new Database(foreign);
    db.exec("CREATE TABLE events (id INTEGER PRIMARY KEY, name TEXT)");
    db.close();
    const clash = await configure({ path: foreign });
    expect(clash.issues).toEqual([
      expect.objectContaining({
        path: "/table",
        message: expect.stringContaining("without the column(s) source, type, subject"),
      }),
    ]);
    expect(await configure({ path: foreign, table: "flow_events" })).toEqual(
      expect.objectContaining({ accepted: true, issues: [] }),
    );
  });

  it("writes one row per event, in WAL mode, with JSON payloads queryable as JSON", async () => {
    const path = join(dir, "rows", "flow.db");
    const sink = open({ path, table: "order" });
    const ack = await sink.write([
      createEvent({
        id: "e-1",
        source: "/shop",
        type: "order.created",
        subject: "o-1",
        time: timestampFromRfc3339("2026-01-02T03:04:05.123456789Z"),
        dataschema: "https://example.com/order",
        extensions: {
          tenant: { value: { $case: "stringValue", value: "acme" } },
          n: { value: { $case: "integerValue", value: 2 } },
        },
        data: { total: 12.5, lines: [1, 2] },
      }),
      createEvent({ id: "e-2", source: "/shop", type: "note", datacontenttype: "text/plain", data: "hello" }),
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
    expect(await sink.flush(9n)).toBe(9n);
    await sink.end();

    expect(query<{ journal_mode: string }>(path, "PRAGMA journal_mode")).toEqual([{ journal_mode: "wal" }]);
    const rows = query<Record<string, unknown>>(
      path,
      `SELECT id, source, type, subject, time, datacontenttype, dataschema, extensions, typeof(data) AS kind, data,
              CASE WHEN datacontenttype = 'application/json' THEN json_extract(data, '$.total') END AS total
         FROM "order" ORDER BY id`,
    );
    expect(rows).toEqual([
      {
        id: "e-1",
        source: "/shop",
        type: "order.created",
        subject: "o-1",
        time: "2026-01-02T03:04:05.123456789Z",
        datacontenttype: "application/json",
        dataschema: "https://example.com/order",
        extensions: '{"tenant":"acme","n":2}',
        kind: "text",
        data: '{"total":12.5,"lines":[1,2]}',
        total: 12.5,
      },
      expect.objectContaining({
        id: "e-2",
        kind: "text",
        data: "hello",
        subject: null,
        time: null,
        extensions: null,
      }),
      expect.objectContaining({ id: "e-3", kind: "blob", data: Buffer.from([0xff, 0x00]) }),
      expect.objectContaining({ id: "e-4", kind: "null", data: null, datacontenttype: null }),
    ]);
  });

  it("leaves no duplicate row when batches are delivered again, on the same stream or a new one", async () => {
    const path = join(dir, "idempotent.db");
    const first = open({ path });
    expect((await first.write(numbered(1, 50))).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
    // The same events again, overlapping the next ones, and a duplicate inside one batch.
    expect((await first.write([...numbered(40, 80), ...numbered(80, 80)])).status).toBe(
      AckStatus.ACK_STATUS_WRITTEN,
    );
    await first.end();

    const replay = open({ path });
    expect((await replay.write(numbered(1, 100))).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
    await replay.end();

    const [summary] = query<{ rows: number; distinct_ids: number; max_seq: number }>(
      path,
      "SELECT count(*) AS rows, count(DISTINCT id) AS distinct_ids, max(json_extract(data, '$.seq')) AS max_seq FROM events",
    );
    expect(summary).toEqual({ rows: 100, distinct_ids: 100, max_seq: 100 });
  });

  it("reports a batch that meets a locked database as retryable, and writes it on the retry", async () => {
    const path = join(dir, "locked.db");
    const sink = open({ path, busyTimeoutMs: 20 });
    expect((await sink.write(numbered(1, 1))).status).toBe(AckStatus.ACK_STATUS_WRITTEN);

    const other = new Database(path);
    other.exec("BEGIN IMMEDIATE");
    const locked = await sink.write(numbered(2, 3));
    expect(locked.status).toBe(AckStatus.ACK_STATUS_RETRYABLE_FAILURE);
    expect(locked.reason).toContain("SQLITE_BUSY");
    other.exec("ROLLBACK");
    other.close();

    expect((await sink.write(numbered(2, 3))).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
    await sink.end();
    expect(query<{ id: string }>(path, "SELECT id FROM events ORDER BY id")).toEqual([
      { id: "gen-1" },
      { id: "gen-2" },
      { id: "gen-3" },
    ]);
  });

  it("refuses synchronous: normal, which would acknowledge commits a power cut can undo", async () => {
    const response = await configure({ path: join(dir, "normal.db"), synchronous: "normal" });
    expect(response.accepted).toBe(false);
    expect(response.issues).toEqual([
      expect.objectContaining({ path: "/synchronous", message: 'must be one of "full"' }),
    ]);
  });

  it("fails a stream started on a path it cannot write", async () => {
    const folder = join(dir, "a-folder");
    mkdirSync(folder);
    const sink = open({ path: folder });
    await expect(sink.reader.finished).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringContaining("is not a file"),
    });
  });
});

// What WRITTEN promises (the batch is committed and on disk), checked on the real service and real file systems.

const MAIN = join(__dirname, "..", "dist", "main.js");

/** The bytes a WRITTEN ack for `sequence` has on the wire, to find it in a trace of the service's socket writes. */
const writtenAck = (sequence: bigint): Buffer =>
  grpcMessageFrame(
    WriteResponse.encode({
      response: { $case: "ack", value: { sequence, status: AckStatus.ACK_STATUS_WRITTEN, reason: "" } },
    }).finish(),
  );

describeWithStrace(
  "sqlite consumer: a WRITTEN ack leaves the service only after its commit is synced",
  () => {
    let traceDir: string;
    beforeAll(() => {
      if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: build the package first (pnpm build)`);
      traceDir = mkdtempSync(join(tmpdir(), "flow-consumer-sqlite-traced-"));
    });
    afterAll(() => rmSync(traceDir, { recursive: true, force: true }));

    it("syncs the WAL once per batch, after writing the batch's rows and before writing the ack to the socket", async () => {
      const traceFile = join(traceDir, "strace.txt");
      const path = join(traceDir, "traced.db");
      // Sequences whose varints appear nowhere else, so each ack is found by its bytes on the socket.
      const batches = [0, 1, 2].map((k) => ({
        sequence: 4_000_000_007n + BigInt(k) * 1_000_003n,
        events: numbered(1 + 5 * k, 5 + 5 * k).map((event) => ({
          ...event,
          id: `${event.id}-${randomBytes(4).toString("hex")}`,
        })),
      }));
      const calls = await traceService(
        MAIN,
        { syscalls: WRITE_AND_SYNC_SYSCALLS, traceFile },
        async (address) => {
          const client = new ConsumerServiceClient(address, credentials.createInsecure());
          const sink = open({ path }, client);
          for (const batch of batches) {
            expect((await sink.write(batch.events, batch.sequence)).status).toBe(
              AckStatus.ACK_STATUS_WRITTEN,
            );
          }
          await sink.end();
          client.close();
        },
      );

      // The batch's last row: the WAL page that holds it is written once the whole batch is.
      const steps = batches.map((batch) => ({
        data: Buffer.from(batch.events[4]?.id ?? ""),
        reply: writtenAck(batch.sequence),
      }));
      expect(syncsBeforeReplies(calls, steps)).toEqual(
        batches.map((_, item) => ({ item, dataWritten: true, replyWritten: true, syncsBetween: 1 })),
      );
      expect(query<{ n: number }>(path, "SELECT count(*) AS n FROM events")).toEqual([{ n: 15 }]);
    });
  },
);

describeWithTmpfs("sqlite consumer on a full disk", () => {
  let disk: MountedTmpfs;
  beforeEach(() => {
    disk = mountTmpfs(1024 * 1024);
  });
  afterEach(() => disk.unmount());

  it("answers a retryable failure naming the cause, commits nothing of the batch, and writes it once on the retry", async () => {
    const path = join(disk.dir, "flow.db");
    const sink = open({ path });
    expect((await sink.write(numbered(1, 10))).status).toBe(AckStatus.ACK_STATUS_WRITTEN);

    const filler = fillFileSystem(disk.dir);
    // Far more than the pages already allocated can hold.
    const big = Array.from({ length: 200 }, (_, i) =>
      createEvent({ id: `big-${i}`, source: "/gen", type: "n", data: { i, pad: "x".repeat(2000) } }),
    );
    const full = await sink.write(big, 2n);
    expect(full.status).toBe(AckStatus.ACK_STATUS_RETRYABLE_FAILURE);
    expect(full.reason).toContain(path);
    expect(full.reason).toContain("SQLITE_FULL");
    expect(full.reason).toContain("free space");
    expect(query<{ n: number }>(path, "SELECT count(*) AS n FROM events")).toEqual([{ n: 10 }]);

    rmSync(filler);
    expect((await sink.write(big, 2n)).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
    expect((await sink.write(numbered(11, 12))).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
    await sink.end();
    expect(
      query<{ rows: number; ids: number }>(
        path,
        "SELECT count(*) AS rows, count(DISTINCT id) AS ids FROM events",
      ),
    ).toEqual([{ rows: 212, ids: 212 }]);
  });
});
