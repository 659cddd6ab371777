import { createHash } from "node:crypto";
import { appendFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { serveSource } from "@flow/sdk";
import {
  eventsIn,
  type ReadBatch,
  type SourceReadOptions,
  SourceReadStream,
  serveForTests,
  unary,
  validateOnly,
} from "@flow/testing";
import { status } from "@grpc/grpc-js";
import { fileSource } from "./file-source";
import { Family, Severity } from "./gen/component/v1/component";
import { type Event, EventBatch } from "./gen/event/v1/event";
import {
  type DescribeResponse,
  type ReadResponse,
  SourceServiceClient,
  SourceServiceService,
} from "./gen/source_service/v1/source";

const served = serveForTests(
  serveSource,
  fileSource,
  { service: SourceServiceService, packageDir: join(__dirname, "..") },
  SourceServiceClient,
);

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "flow-source-file-"));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

type Batch = ReadBatch<ReadResponse>;

/** A Read stream of the served source: 100 credits, batches as large as the source makes them. */
const start = (config: object, options: SourceReadOptions = {}) =>
  new SourceReadStream(served.client, config, {
    credits: 100,
    maxBatchSize: 0,
    stageId: "lines",
    ...options,
  });

/** The batches of a whole read of the file, up to `exhausted`. */
async function readFile(config: object, options: SourceReadOptions = {}): Promise<Batch[]> {
  const read = start(config, options);
  const { batches } = await read.untilExhausted();
  await read.end();
  return batches;
}

/** The byte offset a checkpoint resumes from. */
const offsetOf = (batch: Batch | undefined): number =>
  JSON.parse(batch?.checkpoint?.position.toString() ?? "{}").offset;

/**
 * The ids the README defines, computed here on their own: a SHA-256 chain over the non-blank lines'
 * contents (without line endings) starting from the absolute path, 16 hex digits of it, the offset.
 */
function chainIds(path: string, content: string): string[] {
  let chain = createHash("sha256").update(`flow-source-file\0${path}`).digest();
  const ids: string[] = [];
  let offset = 0;
  for (const piece of content.split(/(?<=\n)/)) {
    const line = piece.replace(/\r?\n$/, "");
    if (line.trim() !== "") {
      chain = createHash("sha256").update(chain).update(line).digest();
      ids.push(`${chain.toString("hex", 0, 8)}-${offset}`);
    }
    offset += Buffer.byteLength(piece);
  }
  return ids;
}

function writeLines(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

describe("file source over gRPC", () => {
  it("describes itself with the vendored contract version and its config schema", async () => {
    const { component } = await unary<DescribeResponse>((done) => served.client.describe({}, done));
    expect(component).toEqual(
      expect.objectContaining({
        name: "flow-source-file",
        family: Family.FAMILY_SOURCE,
        contracts: [expect.objectContaining({ name: "source_service", major: 1, minor: 1, patch: 0 })],
      }),
    );
    expect(component?.features?.checkpointing).toBe(true);
    expect(JSON.parse(component?.configSchema ?? "{}").required).toEqual(["path"]);
  });

  it("reports a missing file with its path, and schema issues, in validate-only mode", async () => {
    const missing = join(dir, "nope", "events.jsonl");
    const response = await validateOnly(served.client, { path: missing }, "lines");
    expect(response.accepted).toBe(false);
    expect(response.issues).toEqual([
      expect.objectContaining({
        path: "/path",
        message: `file not found: ${missing}`,
        severity: Severity.SEVERITY_ERROR,
      }),
    ]);

    const directory = await validateOnly(served.client, { path: dir }, "lines");
    expect(directory.issues).toEqual([
      expect.objectContaining({ path: "/path", message: `${dir} is not a regular file` }),
    ]);

    const schema = await validateOnly(served.client, { format: "xml", follow: "yes" }, "lines");
    expect(schema.issues.map((issue) => issue.path).sort()).toEqual(["/follow", "/format", "/path"]);

    const good = writeLines("good.jsonl", "{}\n");
    expect(await validateOnly(served.client, { path: good }, "lines")).toEqual(
      expect.objectContaining({ accepted: true, issues: [] }),
    );
  });

  it("reads payload lines with exact byte offsets as checkpoints and ids, whatever the line endings", async () => {
    const first = '{"n":1,"name":"ünïcödé"}';
    // CRLF after the first line, a blank line after the second, and no newline after the last one.
    const pieces = [`${first}\r\n`, '{"n":2}\n', "\n", '{"n":3}\n', '{"n":4}'];
    const content = pieces.join("");
    const path = writeLines("payloads.jsonl", content);
    const batches = await readFile({ path, type: "com.example.line" }, { maxBatchSize: 2 });

    const offsets = pieces.map((_, i) => Buffer.byteLength(pieces.slice(0, i).join("")));
    const lineStarts = [offsets[0], offsets[1], offsets[3], offsets[4]];
    expect(batches.map((batch) => batch.sequence)).toEqual([1n, 2n]);
    // After the second line (the blank line belongs to the next batch), then the end of the file.
    expect(batches.map(offsetOf)).toEqual([offsets[2], Buffer.byteLength(content)]);
    expect(batches.map((batch) => batch.checkpoint?.description)).toEqual([
      `byte ${offsets[2]} of ${path}`,
      `byte ${Buffer.byteLength(content)} of ${path}`,
    ]);
    const events = eventsIn(batches);
    expect(events.map((event) => JSON.parse(event.data.toString()).n)).toEqual([1, 2, 3, 4]);
    expect(events.map((event) => event.id)).toEqual(chainIds(path, content));
    expect(events.map((event) => Number(event.id.split("-")[1]))).toEqual(lineStarts);
    expect(events[0]).toEqual(
      expect.objectContaining({
        source: pathToFileURL(path).href,
        type: "com.example.line",
        specversion: "1.0",
        datacontenttype: "application/json",
      }),
    );
    expect(JSON.parse(events[0]?.data.toString() ?? "").name).toBe("ünïcödé");
  });

  it("resumes from a checkpoint with the same ids as the first run", async () => {
    const path = writeLines(
      "resume.jsonl",
      `${Array.from({ length: 10 }, (_, i) => JSON.stringify({ n: i })).join("\n")}\n`,
    );
    const first = await readFile({ path }, { maxBatchSize: 4 });
    const checkpoint = first[0]?.checkpoint?.position.toString();
    const resumed = await readFile({ path }, { maxBatchSize: 4, checkpoint });
    expect(eventsIn(resumed).map((event) => event.id)).toEqual(
      eventsIn(first)
        .slice(4)
        .map((event) => event.id),
    );
    expect(eventsIn(resumed).map((event) => JSON.parse(event.data.toString()).n)).toEqual([4, 5, 6, 7, 8, 9]);

    const atEnd = await readFile({ path }, { checkpoint: first.at(-1)?.checkpoint?.position.toString() });
    expect(atEnd).toEqual([]);
  });

  it("refuses a checkpoint it did not write for good (FAILED_PRECONDITION), saying how to start over", async () => {
    const path = writeLines("foreign.jsonl", "{}\n");
    const { reader } = start({ path }, { checkpoint: "offset=12" });
    await expect(reader.finished).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
      details: expect.stringContaining('checkpoint "offset=12" is not a file source position; reset'),
    });
  });

  it("reads CloudEvents lines with their own ids, attributes, extensions and data", async () => {
    const path = writeLines(
      "cloudevents.jsonl",
      [
        {
          specversion: "1.0",
          id: "a-1",
          source: "/orders",
          type: "order.created",
          subject: "o-1",
          time: "2026-03-04T05:06:07.123456789Z",
          data: { total: 12.5 },
          tenant: "acme",
          priority: 3,
          urgent: true,
        },
        {
          specversion: "1.0",
          id: "a-2",
          source: "/orders",
          type: "order.blob",
          datacontenttype: "application/octet-stream",
          data_base64: Buffer.from([0, 1, 255]).toString("base64"),
        },
        {
          specversion: "1.0",
          id: "a-3",
          source: "/orders",
          type: "order.note",
          datacontenttype: "text/plain",
          data: "hello",
        },
      ]
        .map((event) => JSON.stringify(event))
        .join("\n"),
    );
    const events = eventsIn(await readFile({ path, format: "cloudevents" }));
    expect(events.map((event) => event.id)).toEqual(["a-1", "a-2", "a-3"]);
    expect(events[0]).toEqual(
      expect.objectContaining({
        source: "/orders",
        type: "order.created",
        subject: "o-1",
        datacontenttype: "application/json",
      }),
    );
    expect(events[0]?.time).toMatchObject({
      seconds: BigInt(Date.parse("2026-03-04T05:06:07Z") / 1000),
      nanos: 123456789,
    });
    expect(JSON.parse(events[0]?.data.toString() ?? "")).toEqual({ total: 12.5 });
    expect(events[0]?.extensions).toMatchObject({
      tenant: { value: { $case: "stringValue", value: "acme" } },
      priority: { value: { $case: "integerValue", value: 3 } },
      urgent: { value: { $case: "booleanValue", value: true } },
    });
    expect([...(events[1]?.data ?? [])]).toEqual([0, 1, 255]);
    expect(events[2]?.data.toString()).toBe("hello");
  });

  describe("a line that is not an event", () => {
    const content = ['{"n":1}', "not json at all", '{"specversion":"1.0"}', '{"n":2}'].join("\n");

    it('is emitted as a "flow.file.invalid-line" event carrying the line and the reason by default', async () => {
      const path = writeLines("invalid-emit.jsonl", content);
      const events = eventsIn(await readFile({ path }));
      expect(events.map((event) => event.type)).toEqual([
        "flow.file.line",
        "flow.file.invalid-line",
        "flow.file.line",
        "flow.file.line",
      ]);
      const invalid = events[1];
      expect(invalid?.data.toString()).toBe("not json at all");
      expect(invalid?.datacontenttype).toBe("text/plain; charset=utf-8");
      expect(invalid?.extensions.flowerror?.value).toEqual({
        $case: "stringValue",
        value: expect.stringMatching(/^not JSON: /),
      });
      expect(invalid?.id).toBe(chainIds(path, content)[1]);
      expect(invalid?.id).toMatch(/^[0-9a-f]{16}-8$/);

      const asCloudEvents = eventsIn(await readFile({ path, format: "cloudevents" }));
      expect(asCloudEvents.map((event) => event.extensions.flowerror?.value?.value)).toEqual([
        expect.stringContaining("specversion"),
        expect.stringMatching(/^not JSON/),
        expect.stringContaining("the CloudEvent has no id"),
        expect.stringContaining("specversion"),
      ]);
    });

    it("is skipped with invalidLines: skip", async () => {
      const path = writeLines("invalid-skip.jsonl", content);
      const events = eventsIn(await readFile({ path, invalidLines: "skip" }));
      expect(events.map((event) => event.data.toString())).toEqual([
        '{"n":1}',
        '{"specversion":"1.0"}',
        '{"n":2}',
      ]);
    });

    it("fails the stream for good (FAILED_PRECONDITION), naming the file and byte, with invalidLines: fail", async () => {
      const path = writeLines("invalid-fail.jsonl", content);
      const { reader } = start({ path, invalidLines: "fail" });
      await expect(reader.finished).rejects.toMatchObject({
        code: status.FAILED_PRECONDITION,
        details: expect.stringMatching(new RegExp(`^${path} at byte 8: not JSON`)),
      });
    });
  });

  it("follows lines appended to the file, leaving a half-written last line for later", async () => {
    const path = writeLines("follow.jsonl", '{"n":1}\n');
    const read = start({ path, follow: true, pollIntervalMs: 10 });
    const first = await read.batch();
    expect(first.batch?.events.map((event) => event.data.toString())).toEqual(['{"n":1}']);

    appendFileSync(path, '{"n":2}\n{"n":');
    const second = await read.batch();
    expect(second.batch?.events.map((event) => event.data.toString())).toEqual(['{"n":2}']);
    expect(offsetOf(second)).toBe(16);

    appendFileSync(path, "3}\n");
    const third = await read.batch();
    expect(third.batch?.events.map((event) => event.data.toString())).toEqual(['{"n":3}']);
    await read.end();
  });

  describe("a file replaced, truncated or appended to since the checkpoint", () => {
    const lines = (count: number, tag: string) =>
      Array.from({ length: count }, (_, n) => `${JSON.stringify({ n, tag })}\n`).join("");
    const data = (batches: Batch[]) => eventsIn(batches).map((event) => event.data.toString());
    const ids = (batches: Batch[]) => eventsIn(batches).map((event) => event.id);
    const lastCheckpoint = (batches: Batch[]) => batches.at(-1)?.checkpoint?.position.toString();

    /** Reads `content` at `name` to its end: the events and the checkpoint a run would commit. */
    async function readToEnd(name: string, content: string) {
      const path = writeLines(name, content);
      const batches = await readFile({ path }, { maxBatchSize: 3 });
      return { path, ids: ids(batches), checkpoint: lastCheckpoint(batches) };
    }

    /** Another file takes the path: written beside it, then renamed over it (a new inode). */
    function renameOver(path: string, content: string): void {
      writeFileSync(`${path}.new`, content);
      renameSync(`${path}.new`, path);
    }

    const sameHead = lines(60, "same");
    it.each([
      ["a same-size file renamed over it (a new inode)", lines(10, "old"), lines(10, "new"), renameOver],
      [
        "a same-size file written over it in place (the same inode)",
        lines(10, "old"),
        lines(10, "new"),
        writeFileSync,
      ],
      [
        "a larger file written over it, without a torn line",
        lines(10, "old"),
        lines(25, "bigger"),
        writeFileSync,
      ],
      [
        "a file whose first KiB is the old one's",
        sameHead + lines(10, "old"),
        sameHead + lines(10, "new"),
        renameOver,
      ],
      ["the file truncated and rewritten shorter", lines(10, "old"), lines(2, "after"), writeFileSync],
    ])(
      "reads %s from its start, with the ids a first read of it gives",
      async (_, before, after, replace) => {
        const old = await readToEnd(
          `replaced-${before.length}-${after.length}-${replace.name}.jsonl`,
          before,
        );
        replace(old.path, after);
        const resumed = await readFile({ path: old.path }, { checkpoint: old.checkpoint });
        expect(data(resumed)).toEqual(after.trimEnd().split("\n"));
        expect(ids(resumed)).toEqual(chainIds(old.path, after));
        // Lines the two files share from their very start are the same events; every other id is new.
        const shared = after.startsWith(sameHead) ? 60 : 0;
        expect(ids(resumed).filter((id) => old.ids.includes(id))).toHaveLength(shared);
      },
    );

    it("resumes a file that only grew exactly where it stopped, with the ids a full read gives", async () => {
      const old = await readToEnd("appended.jsonl", lines(10, "old"));
      appendFileSync(old.path, lines(4, "appended"));
      const resumed = await readFile({ path: old.path }, { checkpoint: old.checkpoint });
      expect(data(resumed)).toEqual(lines(4, "appended").trimEnd().split("\n"));
      const whole = await readFile({ path: old.path });
      expect(ids(whole)).toEqual([...old.ids, ...ids(resumed)]);
    });

    it("fails the stream for good (FAILED_PRECONDITION), naming the file and what changed, with replacedFile: fail", async () => {
      const old = await readToEnd("fail.jsonl", lines(10, "old"));
      renameOver(old.path, lines(10, "new"));
      const { reader } = start({ path: old.path, replacedFile: "fail" }, { checkpoint: old.checkpoint });
      await expect(reader.finished).rejects.toMatchObject({
        code: status.FAILED_PRECONDITION,
        details: expect.stringMatching(
          new RegExp(
            `^${old.path} was replaced since it was read up to byte 200: it is another file now .*replacedFile is "fail"; to read the new file from its start, reset the stage's checkpoint \\(flow checkpoints reset <pipeline> lines\\) or set replacedFile: from-start`,
          ),
        ),
      });

      const shortened = await readToEnd("fail-truncated.jsonl", lines(10, "old"));
      writeFileSync(shortened.path, lines(2, "short"));
      const truncated = start(
        { path: shortened.path, replacedFile: "fail" },
        { checkpoint: shortened.checkpoint },
      );
      await expect(truncated.reader.finished).rejects.toMatchObject({
        code: status.FAILED_PRECONDITION,
        details: expect.stringContaining("was truncated since it was read up to byte 200: it is 44 bytes"),
      });
    });

    describe("from a checkpoint of the earlier format (a bare byte offset)", () => {
      it("resumes at the offset when it starts a line, with the ids a full read gives", async () => {
        const content = lines(10, "old");
        const path = writeLines("legacy.jsonl", content);
        const offset = Buffer.byteLength(lines(6, "old"));
        const resumed = await readFile({ path }, { checkpoint: String(offset) });
        expect(data(resumed)).toEqual(content.trimEnd().split("\n").slice(6));
        expect(ids(resumed)).toEqual(chainIds(path, content).slice(6));
        expect(offsetOf(resumed.at(-1))).toBe(Buffer.byteLength(content));
      });

      it("reads the file from its start when the offset is inside a line or past the end", async () => {
        const path = writeLines("legacy-replaced.jsonl", lines(10, "new"));
        for (const checkpoint of ["7", "100000"]) {
          const resumed = await readFile({ path }, { checkpoint });
          expect(data(resumed)).toEqual(lines(10, "new").trimEnd().split("\n"));
        }
        const { reader } = start({ path, replacedFile: "fail" }, { checkpoint: "7" });
        await expect(reader.finished).rejects.toMatchObject({
          details: expect.stringContaining(
            "was replaced since it was read up to byte 7: byte 7 is not where a line starts",
          ),
        });
      });
    });

    describe("while followed", () => {
      async function followUntil(path: string, expected: string[], change: () => void): Promise<string[]> {
        const read = start({ path, follow: true, pollIntervalMs: 10 });
        const seen = data([await read.batch()]);
        change();
        while (seen.length < expected.length) seen.push(...data([await read.batch()]));
        await read.end();
        return seen;
      }

      it("goes on with the new file from its start when the file is rotated", async () => {
        const path = writeLines("rotated.jsonl", lines(3, "old"));
        const expected = [...lines(3, "old").trimEnd().split("\n"), ...lines(2, "new").trimEnd().split("\n")];
        expect(await followUntil(path, expected, () => renameOver(path, lines(2, "new")))).toEqual(expected);
      });

      it("goes on from the start when the file is truncated", async () => {
        const path = writeLines("follow-truncated.jsonl", lines(3, "old"));
        const expected = [...lines(3, "old").trimEnd().split("\n"), ...lines(1, "new").trimEnd().split("\n")];
        expect(await followUntil(path, expected, () => writeFileSync(path, lines(1, "new")))).toEqual(
          expected,
        );
      });
    });
  });

  describe("batches cut to ReadStart.maxBatchBytes", () => {
    const batchBytes = (events: Event[]): number => EventBatch.encode({ events }).finish().length;
    /** CloudEvents lines with their own time, so every event's encoded size is known in advance. */
    const cloudEventLines = (sizes: number[]) =>
      sizes
        .map((size, n) =>
          JSON.stringify({
            specversion: "1.0",
            id: `e-${n}`,
            source: "/sizes",
            type: "t",
            time: "2026-01-01T00:00:00Z",
            data: { pad: "x".repeat(size) },
          }),
        )
        .map((line) => `${line}\n`)
        .join("");
    const sizesOf = async (path: string) =>
      eventsIn(await readFile({ path, format: "cloudevents" })).map((event) => batchBytes([event]));

    it("keeps every batch within the limit, each as full as the next event allows, every event once", async () => {
      const path = writeLines(
        "sized.jsonl",
        Array.from(
          { length: 60 },
          (_, n) => `${JSON.stringify({ n, pad: "y".repeat((n * 37) % 500) })}\n`,
        ).join(""),
      );
      const limit = 4000;
      const batches = await readFile({ path }, { maxBatchBytes: limit });
      expect(batches.length).toBeGreaterThan(5);
      batches.forEach((batch, i) => {
        expect(batchBytes(batch.events)).toBeLessThanOrEqual(limit);
        const following = batches[i + 1];
        if (following !== undefined)
          expect(batchBytes([...batch.events, ...following.events.slice(0, 1)])).toBeGreaterThan(limit);
      });
      const whole = await readFile({ path });
      expect(eventsIn(batches).map((event) => event.id)).toEqual(eventsIn(whole).map((event) => event.id));
      expect(batches.map(offsetOf)).toEqual(
        batches.map((_, i) => {
          const next = batches[i + 1];
          return next === undefined
            ? Buffer.byteLength(readFileSync(path))
            : Number(next.events[0]?.id.split("-")[1]);
        }),
      );
    });

    it("takes a batch that is exactly the limit, and cuts it one byte below", async () => {
      const path = writeLines("exact.jsonl", cloudEventLines([100, 300, 50, 200, 20]));
      const sizes = await sizesOf(path);
      const exact = (sizes[0] ?? 0) + (sizes[1] ?? 0) + (sizes[2] ?? 0);
      const atLimit = await readFile({ path, format: "cloudevents" }, { maxBatchBytes: exact });
      expect(atLimit.map((batch) => batch.events.map((event) => event.id))).toEqual([
        ["e-0", "e-1", "e-2"],
        ["e-3", "e-4"],
      ]);
      expect(batchBytes((atLimit[0] as Batch).events)).toBe(exact);
      const below = await readFile({ path, format: "cloudevents" }, { maxBatchBytes: exact - 1 });
      expect(below.map((batch) => batch.events.map((event) => event.id))).toEqual([
        ["e-0", "e-1"],
        ["e-2", "e-3", "e-4"],
      ]);
    });

    it("sends an event larger than the limit alone, and goes on after it", async () => {
      const path = writeLines("oversized.jsonl", cloudEventLines([10, 10, 5000, 10, 10]));
      const sizes = await sizesOf(path);
      const limit = (sizes[0] ?? 0) * 3;
      expect(sizes[2]).toBeGreaterThan(limit);
      const batches = await readFile({ path, format: "cloudevents" }, { maxBatchBytes: limit });
      expect(batches.map((batch) => batch.events.map((event) => event.id))).toEqual([
        ["e-0", "e-1"],
        ["e-2"],
        ["e-3", "e-4"],
      ]);
    });

    it("resumes from a cut batch's checkpoint at the event that did not fit, with the same ids", async () => {
      const content = Array.from(
        { length: 12 },
        (_, n) => `${JSON.stringify({ n, pad: "z".repeat(200) })}\n`,
      ).join("\n");
      const path = writeLines("cut-resume.jsonl", content);
      const whole = eventsIn(await readFile({ path })).map((event) => event.id);
      const cut = await readFile({ path }, { maxBatchBytes: 1000 });
      expect(cut.length).toBeGreaterThan(2);
      for (const [i, batch] of cut.entries()) {
        const resumed = await readFile({ path }, { checkpoint: batch.checkpoint?.position.toString() });
        const before = cut.slice(0, i + 1).flatMap((batch) => batch.events).length;
        expect(eventsIn(resumed).map((event) => event.id)).toEqual(whole.slice(before));
      }
    });
  });

  it("keeps every digit of numbers in every format", async () => {
    const payload = '{"big":12345678901234567890,"exact":0.10000000000000000555,"cents":12.50,"tiny":1e-400}';
    const asPayload = eventsIn(await readFile({ path: writeLines("digits.jsonl", `${payload}\n`) }));
    expect(asPayload.map((event) => event.data.toString())).toEqual([payload]);

    const cloudEvent = `{"specversion":"1.0","id":"d-1","source":"/digits","type":"t","data": ${payload} ,"seq":12345678901234567890,"ratio":0.10000000000000000555}`;
    const asCloudEvent = eventsIn(
      await readFile({ path: writeLines("digits-ce.jsonl", `${cloudEvent}\n`), format: "cloudevents" }),
    );
    expect(asCloudEvent.map((event) => event.data.toString())).toEqual([payload]);
    expect(asCloudEvent[0]?.extensions).toMatchObject({
      seq: { value: { $case: "stringValue", value: "12345678901234567890" } },
      ratio: { value: { $case: "stringValue", value: "0.10000000000000000555" } },
    });

    const nested = `{"specversion":"1.0","id":"d-2","source":"/digits","type":"t","datacontenttype":"application/json","data":[{"data":1},[12345678901234567891]]}`;
    const asNested = eventsIn(
      await readFile({ path: writeLines("digits-nested.jsonl", nested), format: "cloudevents" }),
    );
    expect(asNested[0]?.data.toString()).toBe('[{"data":1},[12345678901234567891]]');

    const invalid = "not JSON 12345678901234567890";
    const asInvalid = eventsIn(
      await readFile({ path: writeLines("digits-invalid.jsonl", invalid), format: "cloudevents" }),
    );
    expect(asInvalid.map((event) => event.data.toString())).toEqual([invalid]);
  });

  it("refuses to start a stream on a file that does not exist", async () => {
    const { reader } = start({ path: join(dir, "missing.jsonl") });
    await expect(reader.finished).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringContaining("file not found"),
    });
  });
});
