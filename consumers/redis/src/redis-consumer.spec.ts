import { join } from "node:path";
import { createEvent, type FlowEvent, serveConsumer } from "@flow/sdk";
import { ConsumerWriteStream, serveForTests, startTcpProxy, unary, validateOnly } from "@flow/testing";
import { TEST_REDIS_URL, uniqueKey, withRedis } from "@flow/testing/redis";
import Redis from "ioredis";
import { Family, Severity } from "./gen/component/v1/component";
import {
  AckStatus,
  ConsumerServiceClient,
  ConsumerServiceService,
  type DescribeResponse,
} from "./gen/consumer_service/v1/consumer";
import { redisConsumer } from "./redis-consumer";

const served = serveForTests(
  serveConsumer,
  redisConsumer,
  { service: ConsumerServiceService, packageDir: join(__dirname, "..") },
  ConsumerServiceClient,
);

it("describes itself over gRPC", async () => {
  const response = await unary<DescribeResponse>((done) => served.client.describe({}, done));
  expect(response.component).toEqual(
    expect.objectContaining({ name: "flow-consumer-redis", family: Family.FAMILY_CONSUMER }),
  );
});

/** One Write stream of the served consumer. */
const writeStream = (config: object) =>
  new ConsumerWriteStream(served.client, config, { stageId: "redis-test" });

/** An ack's verdict, without the sequence it names. */
const verdict = ({ status, reason }: { status: AckStatus; reason: string }) => ({ status, reason });

const events = (count: number, prefix = "e"): FlowEvent[] =>
  Array.from({ length: count }, (_, n) =>
    createEvent({ id: `${prefix}-${n + 1}`, source: "/test", type: "com.example.t", data: { n: n + 1 } }),
  );
const WRITTEN = AckStatus.ACK_STATUS_WRITTEN;

withRedis(() => {
  const redis = new Redis(TEST_REDIS_URL);
  const keys: string[] = [];
  afterAll(async () => {
    const dedup = (await Promise.all(keys.map((key) => redis.keys(`flow:dedup:${key}:*`)))).flat();
    if (keys.length > 0) await redis.del(...keys, ...dedup);
    redis.disconnect();
  });
  const freshKey = (name: string): string => {
    const key = uniqueKey(name);
    keys.push(key);
    return key;
  };
  const entries = async (stream: string): Promise<Record<string, string>[]> =>
    ((await redis.xrange(stream, "-", "+")) as [string, string[]][]).map(([, flat]) => {
      const object: Record<string, string> = {};
      for (let i = 0; i < flat.length; i += 2) object[flat[i] as string] = flat[i + 1] as string;
      return object;
    });

  it("XADDs each event with its CloudEvents attributes as fields (binary mode), WRITTEN once Redis replied", async () => {
    const stream = freshKey("binary");
    const event = createEvent({
      id: "order-1",
      source: "/shop",
      type: "com.example.order",
      subject: "o1",
      time: { seconds: 1796032800n, nanos: 5 },
      datacontenttype: "text/plain",
      extensions: {
        tenant: { value: { $case: "stringValue", value: "acme" } },
        n: { value: { $case: "integerValue", value: 7 } },
      },
      data: "hello",
    });
    const write = writeStream({ url: TEST_REDIS_URL, stream });
    expect(verdict(await write.write([event, ...events(2)]))).toEqual({ status: WRITTEN, reason: "" });
    await write.end();
    const [first, second] = await entries(stream);
    expect(first).toEqual({
      ce_specversion: "1.0",
      ce_id: "order-1",
      ce_source: "/shop",
      ce_type: "com.example.order",
      ce_subject: "o1",
      ce_time: "2026-11-30T10:00:00.000000005Z",
      ce_tenant: "acme",
      ce_n: "7",
      "content-type": "text/plain",
      data: "hello",
    });
    expect(second).toEqual(
      expect.objectContaining({ ce_id: "e-1", "content-type": "application/json", data: '{"n":1}' }),
    );
    expect(await redis.xlen(stream)).toBe(3);
  });

  it("sends each batch to Redis as one command, whatever its size; a missing stream with createStream false is permanent", async () => {
    const stream = freshKey("one-command");
    // MONITOR lists every command the server runs, those a script runs marked "lua": one command
    // from the consumer adds the batch (MULTI/EXEC would send an XADD per event).
    const monitor = await redis.monitor();
    const writes: string[] = [];
    let fromScripts = 0;
    monitor.on("monitor", (_time: string, args: string[], source: string) => {
      const name = args[0]?.toLowerCase() ?? "";
      if (!args.includes(stream) || !/^(xadd|eval|evalsha)$/.test(name)) return;
      if (source === "lua") fromScripts++;
      else writes.push(name);
    });
    try {
      const write = writeStream({ url: TEST_REDIS_URL, stream });
      expect(verdict(await write.write(events(100)))).toEqual({ status: WRITTEN, reason: "" });
      await write.end();
      // MONITOR's feed is asynchronous: a PING's own line, after the script's, marks the end.
      await new Promise<void>((resolve) => {
        monitor.on("monitor", (_time: string, args: string[]) => {
          if (args[0]?.toLowerCase() === "ping" && args[1] === stream) resolve();
        });
        void redis.ping(stream);
      });
    } finally {
      monitor.disconnect();
    }
    expect(writes).toEqual([expect.stringMatching(/^eval(sha)?$/)]);
    expect(fromScripts).toBe(100);
    expect(await redis.xlen(stream)).toBe(100);

    // A stream deleted while the consumer runs is not made again with createStream false.
    const missing = freshKey("missing");
    await redis.xadd(missing, "*", "f", "v");
    const refusing = writeStream({ url: TEST_REDIS_URL, stream: missing, createStream: false });
    expect((await refusing.write(events(1))).status).toBe(WRITTEN);
    await redis.del(missing);
    const refused = await refusing.write(events(2));
    expect(refused.status).toBe(AckStatus.ACK_STATUS_PERMANENT_FAILURE);
    expect(refused.reason).toMatch(/stream .* does not exist \(createStream is false\)/);
    await refusing.end();
    expect(await redis.exists(missing)).toBe(0);
  });

  it("writes structured CloudEvents on request, and trims to maxLen", async () => {
    const stream = freshKey("structured");
    const write = writeStream({
      url: TEST_REDIS_URL,
      stream,
      mode: "structured",
      maxLen: 3,
      exactTrim: true,
    });
    expect((await write.write(events(5))).status).toBe(WRITTEN);
    await write.end();
    const written = await entries(stream);
    expect(written.map((fields) => fields["content-type"])).toEqual(
      Array(3).fill("application/cloudevents+json"),
    );
    expect(written.map((fields) => JSON.parse(fields.data ?? "").id)).toEqual(["e-3", "e-4", "e-5"]);
    expect(JSON.parse(written[0]?.data ?? "")).toEqual({
      specversion: "1.0",
      id: "e-3",
      source: "/test",
      type: "com.example.t",
      datacontenttype: "application/json",
      data: { n: 3 },
    });
  });

  it("with idempotence, a batch sent again (a lost ack, a crash) adds no entry", async () => {
    const stream = freshKey("idempotent");
    const config = { url: TEST_REDIS_URL, stream, idempotence: { ttlSeconds: 60 } };
    const first = writeStream(config);
    expect((await first.write(events(3))).status).toBe(WRITTEN);
    await first.end();
    const again = writeStream(config);
    expect((await again.write([...events(3), ...events(1, "new")])).status).toBe(WRITTEN);
    await again.end();
    expect((await entries(stream)).map((fields) => fields.ce_id)).toEqual(["e-1", "e-2", "e-3", "new-1"]);
    const ttl = await redis.ttl(`flow:dedup:${stream}:e-1`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);
  });

  it("never answers WRITTEN for what Redis did not take when the connection is cut, and recovers", async () => {
    const stream = freshKey("cut");
    const proxy = await startTcpProxy({
      host: "127.0.0.1",
      port: Number(new URL(TEST_REDIS_URL).port || 6379),
    });
    try {
      const write = writeStream({
        url: `redis://127.0.0.1:${proxy.port}`,
        stream,
        commandTimeoutMs: 500,
      });
      expect((await write.write(events(10, "before"))).status).toBe(WRITTEN);
      proxy.cut();
      const failed = await write.write(events(10, "during"));
      expect(failed.status).toBe(AckStatus.ACK_STATUS_RETRYABLE_FAILURE);
      expect(failed.reason).toMatch(/Redis|connect/);
      expect(await redis.xlen(stream)).toBe(10);
      proxy.restore();
      // As Core does: the batch is sent again until it is WRITTEN.
      let answer = await write.write(events(10, "during"));
      while (answer.status !== WRITTEN) answer = await write.write(events(10, "during"));
      await write.end();
    } finally {
      await proxy.close();
    }
    const ids = (await entries(stream)).map((fields) => fields.ce_id);
    expect(ids).toEqual([...events(10, "before"), ...events(10, "during")].map((event) => event.id));
  });

  it("a key of another type is a permanent failure; waitReplicas without replicas is retryable", async () => {
    const replaced = freshKey("replaced");
    const wrong = writeStream({ url: TEST_REDIS_URL, stream: replaced });
    expect((await wrong.write(events(1))).status).toBe(WRITTEN);
    await redis.del(replaced);
    await redis.set(replaced, "x");
    const refused = await wrong.write(events(1));
    expect(refused.status).toBe(AckStatus.ACK_STATUS_PERMANENT_FAILURE);
    expect(refused.reason).toMatch(/WRONGTYPE/);
    await wrong.end();

    const stream = freshKey("wait");
    const waiting = writeStream({ url: TEST_REDIS_URL, stream, waitReplicas: 1, waitTimeoutMs: 20 });
    const answer = await waiting.write(events(1));
    expect(answer.status).toBe(AckStatus.ACK_STATUS_RETRYABLE_FAILURE);
    expect(answer.reason).toMatch(/only 0 of 1 replica/);
    await waiting.end();
  });

  it("validate-only reaches the server: unreachable, not a stream, missing stream, replicas, persistence", async () => {
    const check = async (config: object) =>
      (await validateOnly(served.client, config, "c")).issues.map((issue) => [
        issue.path,
        issue.severity,
        issue.message,
      ]);
    expect(await check({ url: "redis://127.0.0.1:1", stream: "s" })).toEqual([
      [
        "/url",
        Severity.SEVERITY_ERROR,
        expect.stringMatching(/cannot connect to redis:\/\/127.0.0.1:1.*ECONNREFUSED/),
      ],
    ]);
    const notAStream = freshKey("validate-string");
    await redis.set(notAStream, "x");
    const missing = freshKey("validate-missing");
    const persistence =
      (await redis.config("GET", "appendonly"))[1] === "yes"
        ? []
        : [["/url", Severity.SEVERITY_WARNING, expect.stringContaining("appendonly no")]];
    expect(await check({ url: TEST_REDIS_URL, stream: notAStream })).toEqual([
      ["/stream", Severity.SEVERITY_ERROR, `${notAStream} is a string, not a stream`],
      ...persistence,
    ]);
    expect(
      await check({ url: TEST_REDIS_URL, stream: missing, createStream: false, waitReplicas: 1 }),
    ).toEqual([
      ["/stream", Severity.SEVERITY_ERROR, expect.stringContaining("does not exist")],
      ["/waitReplicas", Severity.SEVERITY_WARNING, expect.stringContaining("fewer than waitReplicas 1")],
      ...persistence,
    ]);
    expect(await check({ url: TEST_REDIS_URL, stream: missing })).toEqual(persistence);
  });
});
