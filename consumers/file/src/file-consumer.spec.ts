import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEvent, type FlowEvent, serveConsumer, timestampFromRfc3339 } from "@flow/sdk";
import {
  bytesOf,
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
import { fileConsumer } from "./file-consumer";
import { Family, Severity } from "./gen/component/v1/component";
import {
  AckStatus,
  ConsumerServiceClient,
  ConsumerServiceService,
  type DescribeResponse,
  WriteResponse,
} from "./gen/consumer_service/v1/consumer";

const served = serveForTests(
  serveConsumer,
  fileConsumer,
  { service: ConsumerServiceService, packageDir: join(__dirname, "..") },
  ConsumerServiceClient,
);

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "flow-consumer-file-"));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A Write stream (on the in-process service unless another client is given). */
const open = (config: object, client: ConsumerWriteClient<FlowEvent, WriteResponse> = served.client) =>
  new ConsumerWriteStream(client, config, { stageId: "out" });

const linesOf = (path: string): unknown[] =>
  readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line));

describe("file consumer over gRPC", () => {
  it("describes itself with the vendored contract version and its config schema", async () => {
    const { component } = await unary<DescribeResponse>((done) => served.client.describe({}, done));
    expect(component).toEqual(
      expect.objectContaining({
        name: "flow-consumer-file",
        family: Family.FAMILY_CONSUMER,
        contracts: [expect.objectContaining({ name: "consumer_service", major: 1, minor: 0, patch: 1 })],
      }),
    );
    expect(JSON.parse(component?.configSchema ?? "{}").required).toEqual(["path"]);
  });

  it("reports a path it cannot write, and schema issues, in validate-only mode", async () => {
    const blocker = join(dir, "a-file");
    writeFileSync(blocker, "");
    const under = join(blocker, "sub", "out.jsonl");
    const response = await validateOnly(served.client, { path: under }, "out");
    expect(response.accepted).toBe(false);
    expect(response.issues).toEqual([
      expect.objectContaining({
        path: "/path",
        message: `cannot create ${under}: ${blocker} is not a folder`,
        severity: Severity.SEVERITY_ERROR,
      }),
    ]);

    const folder = await validateOnly(served.client, { path: dir }, "out");
    expect(folder.issues).toEqual([
      expect.objectContaining({ path: "/path", message: `${dir} exists and is not a regular file` }),
    ]);

    const noFolder = join(dir, "missing", "out.jsonl");
    const strict = await validateOnly(served.client, { path: noFolder, createDirectories: false }, "out");
    expect(strict.issues[0]?.message).toContain(`folder ${join(dir, "missing")} does not exist`);

    const schema = await validateOnly(served.client, { fsync: "always" }, "out");
    expect(schema.issues.map((issue) => issue.path).sort()).toEqual(["/fsync", "/path"]);

    const good = await validateOnly(served.client, { path: noFolder }, "out");
    expect(good).toEqual(expect.objectContaining({ accepted: true, issues: [] }));
  });

  it("appends one CloudEvent per line, acknowledges every batch and answers flushes", async () => {
    const path = join(dir, "nested", "events.jsonl");
    const sink = open({ path });
    const time = timestampFromRfc3339("2026-07-08T09:10:11.000000001Z");
    const first = await sink.write([
      createEvent({
        id: "e-1",
        source: "/gen",
        type: "t.json",
        subject: "s",
        time,
        extensions: {
          tenant: { value: { $case: "stringValue", value: "acme" } },
          n: { value: { $case: "integerValue", value: 3 } },
          raw: { value: { $case: "binaryValue", value: Buffer.from("hi") } },
        },
        datacontenttype: "application/json",
        // Pretty-printed, with an integer beyond 2^53 that a parse and re-stringify would round.
        data: Buffer.from('{\n  "big": 12345678901234567890,\n  "text": "a\\nb"\n}'),
      }),
      createEvent({
        id: "e-2",
        source: "/gen",
        type: "t.bin",
        datacontenttype: "application/octet-stream",
        data: Buffer.from([0, 1, 2]),
      }),
    ]);
    expect(first).toMatchObject({ sequence: 1n, status: AckStatus.ACK_STATUS_WRITTEN, reason: "" });
    const second = await sink.write([
      createEvent({
        id: "e-3",
        source: "/gen",
        type: "t.broken",
        datacontenttype: "application/json",
        data: Buffer.from("{oops"),
      }),
      createEvent({ id: "e-4", source: "/gen", type: "t.empty" }),
    ]);
    expect(second).toMatchObject({ sequence: 2n, status: AckStatus.ACK_STATUS_WRITTEN });
    expect(await sink.flush(42n)).toBe(42n);

    const text = readFileSync(path, "utf8");
    expect(text.split("\n")).toHaveLength(5);
    expect(text).toContain('"data":{   "big": 12345678901234567890,   "text": "a\\nb" }}');
    expect(linesOf(path)).toEqual([
      {
        specversion: "1.0",
        id: "e-1",
        source: "/gen",
        type: "t.json",
        subject: "s",
        time: "2026-07-08T09:10:11.000000001Z",
        datacontenttype: "application/json",
        tenant: "acme",
        n: 3,
        raw: Buffer.from("hi").toString("base64"),
        // The exact digits are checked on the text above; parsed, the number is rounded.
        data: { big: Number("12345678901234567890"), text: "a\nb" },
      },
      {
        specversion: "1.0",
        id: "e-2",
        source: "/gen",
        type: "t.bin",
        datacontenttype: "application/octet-stream",
        data_base64: "AAEC",
      },
      {
        specversion: "1.0",
        id: "e-3",
        source: "/gen",
        type: "t.broken",
        datacontenttype: "application/json",
        data_base64: Buffer.from("{oops").toString("base64"),
      },
      { specversion: "1.0", id: "e-4", source: "/gen", type: "t.empty" },
    ]);
    await sink.end();
  });

  it("appends after what the file holds, closing a torn last line first", async () => {
    const path = join(dir, "torn.jsonl");
    writeFileSync(path, '{"specversion":"1.0","id":"old"}\n{"specversion":"1.0","id":"to');
    const sink = open({ path, fsync: "batch" });
    expect(
      (await sink.write([createEvent({ id: "new", source: "/s", type: "t", data: { ok: true } })])).status,
    ).toBe(AckStatus.ACK_STATUS_WRITTEN);
    await sink.end();
    const lines = readFileSync(path, "utf8").split("\n");
    expect(lines).toEqual([
      '{"specversion":"1.0","id":"old"}',
      '{"specversion":"1.0","id":"to',
      expect.stringContaining('"id":"new"'),
      "",
    ]);
  });

  it("fails a stream started with a path it cannot write", async () => {
    const blocker = join(dir, "blocker");
    writeFileSync(blocker, "");
    const sink = open({ path: join(blocker, "out.jsonl") });
    await expect(sink.reader.finished).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringContaining("is not a folder"),
    });
  });
});

// What WRITTEN promises (the batch is on disk), checked on the real service and real file systems.

const MAIN = join(__dirname, "..", "dist", "main.js");

/** The bytes a WRITTEN ack for `sequence` has on the wire, to find it in a trace of the service's socket writes. */
const writtenAck = (sequence: bigint): Buffer =>
  grpcMessageFrame(
    WriteResponse.encode({
      response: { $case: "ack", value: { sequence, status: AckStatus.ACK_STATUS_WRITTEN, reason: "" } },
    }).finish(),
  );

const events = (tag: string, count: number, padding = 0): FlowEvent[] =>
  Array.from({ length: count }, (_, i) =>
    createEvent({ id: `${tag}-${i}`, source: "/test", type: "t", data: { i, pad: "x".repeat(padding) } }),
  );

const idsIn = (path: string): string[] => linesOf(path).map((line) => (line as { id: string }).id);

describeWithStrace("file consumer: a WRITTEN ack leaves the service only after its batch is synced", () => {
  let dir: string;
  beforeAll(() => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: build the package first (pnpm build)`);
    dir = mkdtempSync(join(tmpdir(), "flow-consumer-file-traced-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("fdatasyncs the output file once per batch, after appending it and before writing the ack to the socket", async () => {
    const traceFile = join(dir, "strace.txt");
    const path = join(dir, "out.jsonl");
    // Sequences whose varints appear nowhere else, so each ack is found by its bytes on the socket.
    const batches = [0, 1, 2].map((k) => ({
      sequence: 4_000_000_007n + BigInt(k) * 1_000_003n,
      events: events(`traced-${k}-${randomBytes(4).toString("hex")}`, 5),
    }));
    const calls = await traceService(
      MAIN,
      { syscalls: WRITE_AND_SYNC_SYSCALLS, traceFile },
      async (address) => {
        const client = new ConsumerServiceClient(address, credentials.createInsecure());
        const sink = open({ path }, client);
        for (const batch of batches) {
          expect((await sink.write(batch.events, batch.sequence)).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
        }
        await sink.end();
        client.close();
      },
    );

    const steps = batches.map((batch) => ({
      data: Buffer.from(batch.events[0]?.id ?? ""),
      reply: writtenAck(batch.sequence),
    }));
    expect(syncsBeforeReplies(calls, steps)).toEqual(
      batches.map((_, item) => ({ item, dataWritten: true, replyWritten: true, syncsBetween: 1 })),
    );
    // Each batch went out in one write (so that one sync covered all of it).
    for (const batch of batches) {
      const ids = batch.events.map((event) => Buffer.from(event.id));
      expect(calls.some((call) => ids.every((id) => bytesOf(call).includes(id)))).toBe(true);
    }
    expect(idsIn(path)).toEqual(batches.flatMap((batch) => batch.events.map((event) => event.id)));
  });
});

describeWithTmpfs("file consumer on a full disk", () => {
  let disk: MountedTmpfs;
  beforeEach(() => {
    disk = mountTmpfs(256 * 1024);
  });
  afterEach(() => disk.unmount());

  it("answers a retryable failure naming the cause, keeps no part of the batch, and writes it once on the retry", async () => {
    const path = join(disk.dir, "out.jsonl");
    const sink = open({ path });
    const first = events("first", 3);
    expect((await sink.write(first)).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
    const good = readFileSync(path, "utf8");

    // Only the slack of the file's last page is left: the batch's first lines fit, the rest do not.
    const filler = fillFileSystem(disk.dir);
    const second = events("second", 60, 200);
    const full = await sink.write(second, 2n);
    expect(full.status).toBe(AckStatus.ACK_STATUS_RETRYABLE_FAILURE);
    expect(full.reason).toContain(`cannot append to ${path}`);
    expect(full.reason).toContain("ENOSPC");
    expect(full.reason).toContain("free space");
    expect(readFileSync(path, "utf8")).toBe(good);
    expect(statSync(path).size).toBe(good.length);

    rmSync(filler);
    expect((await sink.write(second, 2n)).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
    await sink.end();
    const text = readFileSync(path, "utf8");
    expect(text.endsWith("\n")).toBe(true);
    expect(idsIn(path)).toEqual([...first, ...second].map((event) => event.id));
  });
});
