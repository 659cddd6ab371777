import { join } from "node:path";
import { type FlowEvent, serveSource } from "@flow/sdk";
import {
  type SourceReadOptions,
  SourceReadStream,
  serveForTests,
  startTcpProxy,
  unary,
  validateOnly,
} from "@flow/testing";
import { TEST_REDIS_URL, uniqueKey, withRedis } from "@flow/testing/redis";
import Redis from "ioredis";
import { Family, Severity } from "./gen/component/v1/component";
import {
  type DescribeResponse,
  SourceServiceClient,
  SourceServiceService,
} from "./gen/source_service/v1/source";
import { redisSource } from "./redis-source";

const served = serveForTests(
  serveSource,
  redisSource,
  { service: SourceServiceService, packageDir: join(__dirname, "..") },
  SourceServiceClient,
);

it("describes itself over gRPC", async () => {
  const response = await unary<DescribeResponse>((done) => served.client.describe({}, done));
  expect(response.component).toEqual(
    expect.objectContaining({ name: "flow-source-redis", family: Family.FAMILY_SOURCE }),
  );
});

/** A Read stream of the served source. */
const readStream = (config: object, options: SourceReadOptions = {}) =>
  new SourceReadStream(served.client, config, { stageId: "redis-test", ...options });

const text = (event: FlowEvent, name: string): unknown => event.extensions[name]?.value?.value;

withRedis(() => {
  const redis = new Redis(TEST_REDIS_URL);
  const keys: string[] = [];
  afterAll(async () => {
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  /** A fresh stream with its group; entries added with `add`. */
  async function freshStream(name: string): Promise<{ stream: string; group: string; config: object }> {
    const stream = uniqueKey(name);
    keys.push(stream);
    await redis.xgroup("CREATE", stream, "flow", "0", "MKSTREAM");
    return { stream, group: "flow", config: { url: TEST_REDIS_URL, stream, group: "flow", blockMs: 50 } };
  }

  async function add(stream: string, count: number, first = 1): Promise<string[]> {
    const ids: string[] = [];
    for (let n = first; n < first + count; n++)
      ids.push((await redis.xadd(stream, "*", "n", String(n))) as string);
    return ids;
  }

  async function pendingCount(stream: string): Promise<number> {
    const summary = (await redis.xpending(stream, "flow")) as [number, ...unknown[]];
    return summary[0];
  }

  /**
   * Waits until the group's pending count is `expected` (XACK is sent after the commit notice, by
   * the service, on its own time): asks Redis until it says so; a count that never comes fails the
   * test by jest's timeout, however loaded the machine.
   */
  async function pendingBecomes(stream: string, expected: number): Promise<void> {
    while ((await pendingCount(stream)) !== expected) await new Promise((resolve) => setImmediate(resolve));
  }

  it("reads entries as events with the stream, entry id and delivery count; XACKs only after the commit notice", async () => {
    const { stream, config } = await freshStream("attributes");
    const ids = await add(stream, 3);
    const read = readStream(config, { maxBatchSize: 2 });
    const first = await read.batch();
    const second = await read.batch();
    expect(first.events.map((event) => event.id)).toEqual([`${stream}:${ids[0]}`, `${stream}:${ids[1]}`]);
    const event = first.events[0] as FlowEvent;
    expect(JSON.parse(event.data.toString())).toEqual({ n: "1" });
    expect(event).toEqual(
      expect.objectContaining({
        source: `/redis/${stream}`,
        type: "redis.stream.entry",
        datacontenttype: "application/json",
      }),
    );
    expect(event.time?.seconds).toBe(BigInt(Math.floor(Number(ids[0]?.split("-")[0]) / 1000)));
    expect([
      text(event, "redisstream"),
      text(event, "redisentryid"),
      text(event, "redisdeliverycount"),
    ]).toEqual([stream, ids[0], 1]);
    // Received, not acknowledged: everything is still pending in the group.
    expect(await pendingCount(stream)).toBe(3);
    read.commit(first.sequence);
    await pendingBecomes(stream, 1);
    read.commit(second.sequence);
    await pendingBecomes(stream, 0);
    await read.end();
  });

  it("a stream ended before the commit notice is read again first (delivery count 2); a committed one is not", async () => {
    const { stream, config } = await freshStream("redeliver");
    const ids = await add(stream, 4);
    const firstRun = readStream(config, { maxBatchSize: 2, credits: 2 });
    const committed = await firstRun.batch();
    const uncommitted = await firstRun.batch();
    firstRun.commit(committed.sequence);
    await pendingBecomes(stream, 2);
    await firstRun.end();

    const [later] = await add(stream, 1, 5);
    const secondRun = readStream(config, { maxBatchSize: 10 });
    const again = await secondRun.events(2);
    expect(again.map((event) => text(event, "redisentryid"))).toEqual([ids[2], ids[3]]);
    expect(again.map((event) => text(event, "redisdeliverycount"))).toEqual([2, 2]);
    expect(uncommitted.events.map((event) => event.id)).toEqual(again.map((event) => event.id));
    const next = await secondRun.batch();
    expect(next.events.map((event) => text(event, "redisentryid"))).toEqual([later]);
    secondRun.commit(next.sequence);
    await pendingBecomes(stream, 0);
    await secondRun.end();

    // Everything committed: a new stream starts with what is added now, nothing older.
    const [marker] = await add(stream, 1, 6);
    const thirdRun = readStream(config);
    expect((await thirdRun.batch()).events.map((event) => text(event, "redisentryid"))).toEqual([marker]);
    await thirdRun.end();
  });

  it("duplicates after a cut stream are exactly the batches in flight, never a committed one", async () => {
    const { stream, config } = await freshStream("bounded");
    await add(stream, 100);
    const crashed = readStream(config, { maxBatchSize: 10, credits: 3 });
    const batches = [await crashed.batch(), await crashed.batch(), await crashed.batch()];
    crashed.commit(batches[0]?.sequence ?? 0n);
    await pendingBecomes(stream, 20);
    await crashed.end();

    const resumed = readStream(config, { maxBatchSize: 10, credits: 100 });
    const all = await resumed.events(90);
    const inFlight = [...(batches[1]?.events ?? []), ...(batches[2]?.events ?? [])].map((event) => event.id);
    const duplicates = all
      .filter((event) => text(event, "redisdeliverycount") === 2)
      .map((event) => event.id);
    expect(duplicates).toEqual(inFlight);
    expect(new Set(all.map((event) => event.id)).size).toBe(90);
    expect(all.map((event) => event.id)).not.toContain(batches[0]?.events[0]?.id);
    await resumed.end();
  });

  it("reclaims the pending entries of a crashed consumer once they are idle for claimIdleMs", async () => {
    const { stream, config } = await freshStream("reclaim");
    const ids = await add(stream, 2);
    const crashed = readStream({ ...config, consumer: "crashed", claimIdleMs: 0 });
    await crashed.events(2);
    await crashed.end();

    const survivor = readStream({ ...config, consumer: "survivor", claimIdleMs: 30 });
    const reclaimed = await survivor.events(2);
    expect(reclaimed.map((event) => text(event, "redisentryid"))).toEqual(ids);
    expect(reclaimed.map((event) => text(event, "redisdeliverycount"))).toEqual([2, 2]);
    const owners = (await redis.xpending(stream, "flow", "-", "+", 10)) as [string, string][];
    expect(owners.map(([, owner]) => owner)).toEqual(["survivor", "survivor"]);
    await survivor.end();
  });

  it("recognises CloudEvents in binary mode (ce_ and ce- fields) and structured mode", async () => {
    const { stream, config } = await freshStream("cloudevents");
    await redis.xadd(
      stream,
      "*",
      "ce_specversion",
      "1.0",
      "ce_id",
      "order-1",
      "ce_source",
      "/shop",
      "ce_type",
      "com.example.order",
      "ce_time",
      "2026-11-30T10:00:00.123456789Z",
      "ce_tenant",
      "acme",
      "content-type",
      "text/plain",
      "data",
      "hello",
    );
    await redis.xadd(
      stream,
      "*",
      "ce-specversion",
      "1.0",
      "ce-id",
      "order-2",
      "ce-source",
      "/shop",
      "ce-type",
      "t",
      "data",
      "x",
    );
    const structured = {
      specversion: "1.0",
      id: "order-3",
      source: "/shop",
      type: "com.example.order",
      subject: "o3",
      datacontenttype: "application/json",
      tenant: "acme",
      data: { amount: 3 },
    };
    await redis.xadd(
      stream,
      "*",
      "content-type",
      "application/cloudevents+json",
      "data",
      // A big integer in the data, which a parse and re-serialise would round.
      JSON.stringify(structured).replace('{"amount":3}', '{"amount":3,"ref":12345678901234567890}'),
    );
    await redis.xadd(stream, "*", "ce_specversion", "1.0", "ce_source", "/no-id", "ce_type", "t");
    const read = readStream(config);
    const [binary, dashed, json, invalid] = (await read.events(4)) as FlowEvent[];
    expect(binary).toEqual(
      expect.objectContaining({
        id: "order-1",
        source: "/shop",
        type: "com.example.order",
        datacontenttype: "text/plain",
      }),
    );
    expect(binary?.time).toMatchObject({
      seconds: BigInt(Date.parse("2026-11-30T10:00:00Z") / 1000),
      nanos: 123456789,
    });
    expect(binary?.data.toString()).toBe("hello");
    expect(text(binary as FlowEvent, "tenant")).toBe("acme");
    expect(dashed).toEqual(expect.objectContaining({ id: "order-2", type: "t" }));
    expect(json).toEqual(
      expect.objectContaining({ id: "order-3", subject: "o3", datacontenttype: "application/json" }),
    );
    expect(json?.data.toString()).toBe('{"amount":3,"ref":12345678901234567890}');
    expect(text(json as FlowEvent, "tenant")).toBe("acme");
    // Not a valid CloudEvent: read as a plain entry with the reason, never dropped.
    expect(invalid?.id).toMatch(new RegExp(`^${stream}:`));
    expect(text(invalid as FlowEvent, "rediscloudeventerror")).toBe("the CloudEvent has no id");
    await read.end();
  });

  it("cuts batches to maxBatchBytes and maxBatchSize, every entry once", async () => {
    const { stream, config } = await freshStream("bytes");
    for (let n = 0; n < 7; n++) await redis.xadd(stream, "*", "payload", "x".repeat(1000), "n", String(n));
    const read = readStream({ ...config, payloadField: "payload" }, { maxBatchSize: 3, maxBatchBytes: 2500 });
    const sizes: number[] = [];
    const ids: string[] = [];
    while (ids.length < 7) {
      const { events } = await read.batch();
      sizes.push(events.length);
      ids.push(...events.map((event) => event.id));
    }
    expect(sizes).toEqual([2, 2, 2, 1]);
    expect(new Set(ids).size).toBe(7);
    await read.end();
  });

  it("fails its stream when the connection is cut; the entries stay pending and are read again", async () => {
    const { stream, config } = await freshStream("cut");
    const ids = await add(stream, 2);
    const proxy = await startTcpProxy({
      host: "127.0.0.1",
      port: Number(new URL(TEST_REDIS_URL).port || 6379),
    });
    try {
      const read = readStream({ ...config, url: `redis://127.0.0.1:${proxy.port}` }, { credits: 1 });
      await read.events(2);
      proxy.cut();
      read.credit(1);
      const status = await read.reader.status;
      expect(status.code).toBe(14); // UNAVAILABLE: Core restarts the source
      expect(await pendingCount(stream)).toBe(2);
    } finally {
      await proxy.close();
    }
    const again = readStream(config);
    expect((await again.events(2)).map((event) => text(event, "redisentryid"))).toEqual(ids);
    await again.end();
  });

  it("validate-only reaches the server: unreachable, no such stream, no such group", async () => {
    const { stream } = await freshStream("validate");
    const check = async (config: object) =>
      (await validateOnly(served.client, config, "s")).issues.map((issue) => [
        issue.path,
        issue.severity,
        issue.message,
      ]);
    expect(await check({ url: "redis://127.0.0.1:1", stream, group: "flow" })).toEqual([
      ["/url", Severity.SEVERITY_ERROR, expect.stringContaining("cannot connect to redis://127.0.0.1:1")],
    ]);
    const missing = uniqueKey("missing");
    expect(await check({ url: TEST_REDIS_URL, stream: missing, group: "flow" })).toEqual([
      ["/stream", Severity.SEVERITY_ERROR, expect.stringContaining(`stream ${missing} does not exist`)],
    ]);
    expect(await check({ url: TEST_REDIS_URL, stream, group: "other" })).toEqual([
      ["/group", Severity.SEVERITY_ERROR, expect.stringContaining("has no consumer group other")],
    ]);
    expect(await check({ url: TEST_REDIS_URL, stream: missing, group: "flow", createGroup: true })).toEqual(
      [],
    );
    expect(await check({ url: TEST_REDIS_URL, stream, group: "flow" })).toEqual([]);
    expect(await redis.exists(missing)).toBe(0);
  });

  it("creates the group with MKSTREAM when asked, then reads from the start", async () => {
    const stream = uniqueKey("create");
    keys.push(stream);
    const read = readStream({
      url: TEST_REDIS_URL,
      stream,
      group: "new",
      createGroup: true,
      blockMs: 50,
    });
    // Before or after the group is created: a group created at "0" reads it either way.
    await redis.xadd(stream, "*", "n", "1");
    const [event] = await read.events(1);
    expect(JSON.parse(event?.data.toString() ?? "")).toEqual({ n: "1" });
    await read.end();
  });
});
