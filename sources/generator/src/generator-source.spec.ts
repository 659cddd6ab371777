import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { serveSource } from "@flow/sdk";
import { type SourceReadOptions, SourceReadStream, serveForTests, unary, validateOnly } from "@flow/testing";
import { status } from "@grpc/grpc-js";
import { Family, Severity } from "./gen/component/v1/component";
import { type Event, EventBatch } from "./gen/event/v1/event";
import { type CloudEvent, CloudEventBatch } from "./gen/event/v2/event";
import {
  type DescribeResponse,
  type SourceBatch,
  SourceServiceClient,
  SourceServiceService,
} from "./gen/source_service/v1/source";
import {
  type SourceBatch as SourceBatchV2,
  SourceServiceClient as SourceServiceClientV2,
  SourceServiceService as SourceServiceServiceV2,
} from "./gen/source_service/v2/source";
import { generatorSource } from "./generator-source";

const served = serveForTests(
  serveSource,
  generatorSource,
  { service: SourceServiceService, packageDir: join(__dirname, "..") },
  SourceServiceClient,
);

/** A Read stream of the served generator: 100 credits, batches as large as the source makes them. */
const start = (config: object, options: SourceReadOptions = {}) =>
  new SourceReadStream(served.client, config, { credits: 100, maxBatchSize: 0, stageId: "gen", ...options });

const ids = (batches: SourceBatch[]) =>
  batches.flatMap((batch) => batch.batch?.events.map((event) => event.id) ?? []);

describe("generator source over gRPC", () => {
  it("describes itself with the vendored contract version and its config schema", async () => {
    const response = await unary<DescribeResponse>((done) => served.client.describe({}, done));
    const component = response.component;
    expect(component?.name).toBe("flow-source-generator");
    expect(component?.family).toBe(Family.FAMILY_SOURCE);
    expect(component?.contracts).toEqual([
      expect.objectContaining({ name: "source_service", major: 1, minor: 1, patch: 0 }),
    ]);
    expect(component?.features?.checkpointing).toBe(true);
    const schema = JSON.parse(component?.configSchema ?? "{}");
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(["count", "rate", "payload", "type", "source"]),
    );
  });

  it("reports every configuration issue with its path in validate-only mode", async () => {
    const response = await validateOnly(
      served.client,
      {
        count: -1,
        rate: "fast",
        colour: "red",
        payload: { size: 64, template: [1, 2] },
      },
      "gen",
    );
    expect(response.accepted).toBe(false);
    const paths = response.issues.map((issue) => issue.path);
    expect(paths).toEqual(expect.arrayContaining(["/count", "/rate", "/colour"]));
    expect(response.issues.every((issue) => issue.severity === Severity.SEVERITY_ERROR)).toBe(true);

    const templateOnly = await validateOnly(
      served.client,
      { payload: { size: 64, template: [1, 2] } },
      "gen",
    );
    expect(templateOnly.accepted).toBe(false);
    expect(templateOnly.issues).toEqual([expect.objectContaining({ path: "/payload/template" })]);

    const good = await validateOnly(served.client, { count: 10, rate: 100 }, "gen");
    expect(good).toEqual(expect.objectContaining({ accepted: true, issues: [] }));
  });

  it("streams count events in batches of maxBatchSize, each with the next sequence as checkpoint, then exhausted", async () => {
    const streamedFrom = BigInt(Math.floor(Date.now() / 1000));
    const read = start({ count: 10 }, { maxBatchSize: 4 });
    const { batches, lastSequence } = await read.untilExhausted();
    await read.end();

    expect(batches.map((batch) => batch.sequence)).toEqual([1n, 2n, 3n]);
    expect(batches.map((batch) => batch.batch?.events.length)).toEqual([4, 4, 2]);
    expect(batches.map((batch) => batch.checkpoint?.position.toString())).toEqual(["5", "9", "11"]);
    expect(lastSequence).toBe(3n);
    expect(ids(batches)).toEqual(Array.from({ length: 10 }, (_, i) => `gen-${i + 1}`));

    const first = batches[0]?.batch?.events[0];
    expect(first).toEqual(
      expect.objectContaining({
        source: "urn:flow:generator",
        type: "flow.generator.event",
        specversion: "1.0",
        datacontenttype: "application/json",
      }),
    );
    expect(JSON.parse(first?.data.toString() ?? "")).toEqual({ seq: 1 });
    // Stamped when generated, during this stream: not left unset (zero) nor taken from elsewhere.
    const stamped = first?.time?.seconds ?? 0n;
    expect(stamped >= streamedFrom && stamped <= BigInt(Math.ceil(Date.now() / 1000))).toBe(true);
  });

  it("resumes exactly after a committed checkpoint", async () => {
    const read = start({ count: 10 }, { maxBatchSize: 4, checkpoint: "5" });
    const { batches } = await read.untilExhausted();
    await read.end();
    expect(ids(batches)).toEqual(["gen-5", "gen-6", "gen-7", "gen-8", "gen-9", "gen-10"]);
    expect(batches.at(-1)?.checkpoint?.position.toString()).toBe("11");
  });

  it("sends no more batches than it was granted credits", async () => {
    const read = start({ count: 0 }, { credits: 1, maxBatchSize: 2 });
    expect((await read.batch()).sequence).toBe(1n);
    // Nothing can be awaited for a batch that must not come: give the source a moment to misbehave.
    await sleep(150);
    expect(read.reader.pending).toBe(0);

    read.credit(2);
    expect((await read.batch()).sequence).toBe(2n);
    const third = await read.batch();
    expect(third.sequence).toBe(3n);
    expect(third.batch?.events.map((event) => event.id)).toEqual(["gen-5", "gen-6"]);
    await read.end();
  });

  it("paces events at the configured rate and groups the events due within lingerMs", async () => {
    // The schedule itself is tested exactly in paced-ranges.spec.ts (on a clock it steps); here
    // the service is seen to use it: every event arrives, grouped by the linger.
    const read = start({ count: 30, rate: 200 }, { maxBatchSize: 100, lingerMs: 40 });
    const { batches } = await read.untilExhausted();
    await read.end();

    expect(ids(batches)).toHaveLength(30);
    // One event per batch would mean the linger was ignored; a slower machine only groups more.
    expect(batches.length).toBeLessThan(30);
  });

  it("shapes the payload from a template and pads it to the requested size", async () => {
    const read = start(
      {
        count: 2,
        type: "com.example.order",
        source: "/tests",
        subject: "order-{{seq}}",
        payload: { template: { n: "{{seq}}", ref: "{{id}}", nested: ["{{stage}}"] }, size: 100 },
      },
      { maxBatchSize: 10 },
    );
    const { batches } = await read.untilExhausted();
    await read.end();
    const events = batches.flatMap((batch) => batch.batch?.events ?? []);
    expect(events.map((event) => event.subject)).toEqual(["order-1", "order-2"]);
    expect(events.map((event) => event.data.length)).toEqual([100, 100]);
    const payload = JSON.parse(events[1]?.data.toString() ?? "");
    expect(payload).toEqual({ n: 2, ref: "gen-2", nested: ["gen"], pad: expect.stringMatching(/^x+$/) });
  });

  it("fails the stream for good (FAILED_PRECONDITION) on a checkpoint it did not write", async () => {
    const { reader } = start({ count: 10 }, { checkpoint: "offset=12" });
    await expect(reader.finished).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
      details: expect.stringContaining("not a generator position"),
    });
  });

  describe("batches cut to ReadStart.maxBatchBytes", () => {
    const batchBytes = (events: Event[]): number => EventBatch.encode({ events }).finish().length;
    const eventsIn = (batch: SourceBatch): Event[] => batch.batch?.events ?? [];
    async function read(config: object, options: Parameters<typeof start>[1]): Promise<SourceBatch[]> {
      const read = start(config, options);
      const { batches } = await read.untilExhausted();
      await read.end();
      return batches;
    }

    it("keeps every batch within the limit, cut exactly where the next event would pass it", async () => {
      const limit = 3000;
      // 100 events per batch of ~260 bytes each would be ~26 KB: each is cut into batches of ~11.
      const batches = await read(
        { count: 250, payload: { size: 200 } },
        { maxBatchSize: 100, maxBatchBytes: limit },
      );
      expect(batches.length).toBeGreaterThan(20);
      batches.forEach((batch, i) => {
        expect(batchBytes(eventsIn(batch))).toBeLessThanOrEqual(limit);
        const following = batches[i + 1];
        if (following === undefined) return;
        // Cut one event too early, or too late, fails one of these.
        expect(batchBytes([...eventsIn(batch), ...eventsIn(following).slice(0, 1)])).toBeGreaterThan(limit);
        expect(batch.checkpoint?.position.toString()).toBe(eventsIn(following)[0]?.id.replace("gen-", ""));
      });
      expect(ids(batches)).toEqual(Array.from({ length: 250 }, (_, i) => `gen-${i + 1}`));
      expect(batches.at(-1)?.checkpoint?.position.toString()).toBe("251");
    });

    it("sends each event larger than the limit alone, and reaches the end", async () => {
      const batches = await read({ count: 4, payload: { size: 5000 } }, { maxBatchBytes: 3000 });
      expect(batches.map((batch) => eventsIn(batch).map((event) => event.id))).toEqual([
        ["gen-1"],
        ["gen-2"],
        ["gen-3"],
        ["gen-4"],
      ]);
      expect(batches.map((batch) => batch.checkpoint?.position.toString())).toEqual(["2", "3", "4", "5"]);
    });

    it("resumes from a cut batch's checkpoint at the event that did not fit", async () => {
      const config = { count: 40, payload: { size: 300 } };
      const cut = await read(config, { maxBatchSize: 40, maxBatchBytes: 2000 });
      expect(cut.length).toBeGreaterThan(2);
      const checkpoint = cut[0]?.checkpoint?.position.toString();
      const resumed = await read(config, { maxBatchSize: 40, checkpoint });
      expect(ids(resumed)).toEqual(ids(cut).slice(eventsIn(cut[0] as SourceBatch).length));
    });
  });
});

describe("generator source over event v2", () => {
  const servedV2 = serveForTests(
    serveSource,
    generatorSource,
    { service: SourceServiceServiceV2, packageDir: join(__dirname, "..") },
    SourceServiceClientV2,
  );
  const batchBytes = (events: CloudEvent[]): number => CloudEventBatch.encode({ events }).finish().length;
  const eventsIn = (batch: SourceBatchV2): CloudEvent[] => batch.batch?.events ?? [];

  it("cuts batches where their v2 encoding, not their v1 one, would pass ReadStart.maxBatchBytes", async () => {
    const limit = 3000;
    const read = new SourceReadStream(
      servedV2.client,
      { count: 250, payload: { size: 200 } },
      // No cut by count: every cut below is one by bytes.
      { credits: 100, maxBatchSize: 1000, maxBatchBytes: limit, stageId: "gen" },
    );
    const { batches } = (await read.untilExhausted()) as unknown as { batches: SourceBatchV2[] };
    await read.end();
    expect(batches.length).toBeGreaterThan(20);
    batches.forEach((batch, i) => {
      expect(batchBytes(eventsIn(batch))).toBeLessThanOrEqual(limit);
      const following = batches[i + 1];
      if (following === undefined) return;
      // Cut by the v1 size (each event a few bytes smaller or larger in v2), one of these fails.
      expect(batchBytes([...eventsIn(batch), ...eventsIn(following).slice(0, 1)])).toBeGreaterThan(limit);
    });
    expect(batches.flatMap((batch) => eventsIn(batch).map((event) => event.id))).toEqual(
      Array.from({ length: 250 }, (_, i) => `gen-${i + 1}`),
    );
  });
});
