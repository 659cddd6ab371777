import { join } from "node:path";
import { serveSource } from "@flow/sdk";
import {
  type SourceReadClient,
  type SourceReadOptions,
  SourceReadStream,
  serveForTests,
  startTcpProxy,
  type TcpProxy,
  unary,
  validateOnly,
} from "@flow/testing";
import { status } from "@grpc/grpc-js";
import { DeliverySession } from "./delivery-session";
import { Family, Severity } from "./gen/component/v1/component";
import type { Event } from "./gen/event/v1/event";
import {
  type DescribeResponse,
  type ReadResponse,
  SourceServiceClient,
  SourceServiceService,
} from "./gen/source_service/v1/source";
import { INVALID_CLOUDEVENT_TYPE } from "./message-event";
import { rabbitmqSource } from "./rabbitmq-source";
import {
  describeWithRabbitmq,
  RABBITMQ_URL,
  sourceConfig,
  TestBroker,
  uniqueName,
} from "./test-support/rabbitmq-for-tests";
import { settlesAtOnce } from "./test-support/settles-at-once";
import { SpawnedSource, until } from "./test-support/spawned-source";

const served = serveForTests(
  serveSource,
  rabbitmqSource,
  { service: SourceServiceService, packageDir: join(__dirname, "..") },
  SourceServiceClient,
);

/** A Read stream of the source `client` serves, in batches of 10 unless said otherwise. */
const readStream = (
  client: SourceReadClient<ReadResponse>,
  config: object,
  options: SourceReadOptions = {},
) => new SourceReadStream(client, config, { maxBatchSize: 10, stageId: "rabbit", ...options });

const extension = (event: Event, name: string) => event.extensions[name]?.value?.value;
const texts = (events: Event[]) => events.map((event) => event.data.toString());
const numbered = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => ({
    body: `m${from + i}`,
    options: { messageId: `id-${from + i}` },
  }));

it("describes itself over gRPC", async () => {
  const response = await unary<DescribeResponse>((done) => served.client.describe({}, done));
  expect(response.component).toEqual(
    expect.objectContaining({ name: "flow-source-rabbitmq", family: Family.FAMILY_SOURCE }),
  );
  expect(JSON.parse(response.component?.configSchema ?? "{}").required).toEqual(["queue"]);
});

describeWithRabbitmq("the RabbitMQ source against the real broker", () => {
  let broker: TestBroker;
  beforeEach(async () => {
    broker = await TestBroker.open();
  });
  afterEach(async () => {
    await broker.close();
  });

  const configure = (config: object) => validateOnly(served.client, config, "rabbit");

  it("validate-only reaches the broker: an unreachable broker, bad credentials, a missing queue or exchange", async () => {
    const queue = await broker.queue("validate");
    expect(await configure({ url: RABBITMQ_URL, queue })).toEqual(
      expect.objectContaining({ accepted: true, issues: [] }),
    );

    const proxy = await startTcpProxy({ host: "127.0.0.1", port: 5672 });
    proxy.cut();
    const unreachable = await configure({ url: `amqp://guest:guest@127.0.0.1:${proxy.port}`, queue });
    await proxy.close();
    expect(unreachable.accepted).toBe(false);
    expect(unreachable.issues).toEqual([
      expect.objectContaining({
        path: "/url",
        severity: Severity.SEVERITY_ERROR,
        message: expect.stringContaining("RabbitMQ"),
      }),
    ]);

    const refused = await configure({ url: RABBITMQ_URL.replace(/\/\/[^@]*@/, "//guest:wrong@"), queue });
    expect(refused.issues).toEqual([
      expect.objectContaining({ path: "/url", message: expect.stringContaining("refused the credentials") }),
    ]);

    const missing = uniqueName("missing");
    const noQueue = await configure({ url: RABBITMQ_URL, queue: missing });
    expect(noQueue.issues).toEqual([
      expect.objectContaining({
        path: "/queue",
        message: expect.stringContaining(`queue "${missing}" does not exist`),
      }),
    ]);
    // Declaring it is fine, and validate-only declares nothing.
    expect((await configure({ url: RABBITMQ_URL, queue: missing, declareQueue: true })).accepted).toBe(true);
    expect(await broker.inspect(missing)).toBeUndefined();

    const noExchange = await configure({
      url: RABBITMQ_URL,
      queue,
      exchange: { name: missing, declare: false },
    });
    expect(noExchange.issues).toEqual([
      expect.objectContaining({ path: "/exchange/name", message: expect.stringContaining("does not exist") }),
    ]);
  });

  it("turns each message into an event: body as payload, broker metadata as attributes", async () => {
    const queue = await broker.queue("round-trip");
    await broker.publish(queue, [
      {
        body: '{"n":1}',
        options: {
          messageId: "order-1",
          contentType: "application/json",
          type: "order.created",
          timestamp: 1_700_000_000,
        },
      },
      { body: Buffer.from([0xff, 0x00]), options: { contentType: "application/octet-stream" } },
    ]);
    const stream = readStream(served.client, { url: RABBITMQ_URL, queue, type: "flow.test" });
    const [first, second] = await stream.events(2);
    expect(first).toEqual(
      expect.objectContaining({
        id: "order-1",
        type: "order.created",
        source: `rabbitmq://127.0.0.1:5672/%2F/${queue}`,
        datacontenttype: "application/json",
        time: expect.objectContaining({ seconds: 1_700_000_000n, nanos: 0 }),
        data: Buffer.from('{"n":1}'),
      }),
    );
    expect(extension(first as Event, "rabbitmqexchange")).toBe("");
    expect(extension(first as Event, "rabbitmqroutingkey")).toBe(queue);
    expect(extension(first as Event, "rabbitmqredelivered")).toBe(false);
    expect(extension(first as Event, "rabbitmqmessageid")).toBe("order-1");
    // No message id: an id of its own, unique, and the configured type.
    expect(second?.id).toMatch(new RegExp(`^${queue}-[0-9a-f-]{36}$`));
    expect(second).toEqual(expect.objectContaining({ type: "flow.test", data: Buffer.from([0xff, 0x00]) }));
    expect(extension(second as Event, "rabbitmqmessageid")).toBeUndefined();
    await stream.end();
  });

  it("acknowledges nothing on receipt: a stream that ends before the commit notice leaves every message to be redelivered, marked", async () => {
    const queue = await broker.queue("no-commit");
    await broker.publish(queue, numbered(1, 4));
    const stream = readStream(served.client, { url: RABBITMQ_URL, queue }, { maxBatchSize: 4 });
    expect(texts((await stream.batch()).events)).toEqual(["m1", "m2", "m3", "m4"]);
    expect(await broker.ready(queue)).toBe(0);
    await stream.end();
    await until(async () => (await broker.ready(queue)) === 4, "the four messages are back in the queue");

    const again = readStream(served.client, { url: RABBITMQ_URL, queue }, { maxBatchSize: 4 });
    const batch = await again.batch();
    expect(batch.events.map((event) => event.id)).toEqual(["id-1", "id-2", "id-3", "id-4"]);
    expect(batch.events.map((event) => extension(event, "rabbitmqredelivered"))).toEqual([
      true,
      true,
      true,
      true,
    ]);
    // The quorum queue counts the delivery attempts.
    expect(extension(batch.events[0] as Event, "rabbitmqdeliverycount")).toBe(1);
    // After the commit notice they are acknowledged: nothing comes back.
    again.commit(batch);
    await again.end();
    await until(async () => (await broker.consumers(queue)) === 0, "the source's consumer is gone");
    expect(await broker.ready(queue)).toBe(0);
  });

  it("one commit notice acknowledges its batch and every batch before it (basic.ack multiple)", async () => {
    const queue = await broker.queue("multiple");
    await broker.publish(queue, numbered(1, 9));
    const stream = readStream(served.client, { url: RABBITMQ_URL, queue }, { maxBatchSize: 3 });
    await stream.batch();
    await stream.batch();
    const third = await stream.batch();
    expect(texts(third.events)).toEqual(["m7", "m8", "m9"]);
    stream.commit(third);
    await stream.end();
    await until(async () => (await broker.consumers(queue)) === 0, "the source's consumer is gone");
    expect(await broker.ready(queue)).toBe(0);
  });

  it("holds at most `prefetch` messages unacknowledged; a commit lets more come", async () => {
    const queue = await broker.queue("prefetch");
    await broker.publish(queue, numbered(1, 30));
    const stream = readStream(
      served.client,
      { url: RABBITMQ_URL, queue, prefetch: 10 },
      { maxBatchSize: 5, credits: 100 },
    );
    const first = await stream.batch();
    await stream.batch();
    // Ten delivered and unacknowledged; the broker holds the other twenty back.
    expect(await broker.ready(queue)).toBe(20);
    stream.commit(first);
    expect(texts((await stream.batch()).events)).toEqual(["m11", "m12", "m13", "m14", "m15"]);
    await stream.end();
  });

  it("a SIGKILLed service loses nothing: what it had not committed is redelivered, at most what was in flight", async () => {
    const queue = await broker.queue("sigkill");
    await broker.publish(queue, numbered(1, 100));
    const service = await SpawnedSource.start();
    const stream = readStream(
      service.client,
      { url: RABBITMQ_URL, queue, prefetch: 20 },
      { maxBatchSize: 5, credits: 2 },
    );
    const first = await stream.batch();
    await stream.batch();
    await until(async () => (await broker.ready(queue)) === 80, "the prefetch of 20 is delivered");
    stream.commit(first);
    // The ack has reached the broker once it refills the prefetch: five more delivered, waiting.
    await until(async () => (await broker.ready(queue)) === 75, "the broker refills the prefetch");
    await service.kill();
    await until(async () => (await broker.ready(queue)) === 95, "all but the committed five are back");

    const again = readStream(served.client, { url: RABBITMQ_URL, queue }, { maxBatchSize: 95 });
    const events = await again.events(95);
    expect(new Set(events.map((event) => event.id)).size).toBe(95);
    expect(events.map((event) => event.id)).not.toContain("id-1");
    // Redelivered: exactly what the killed service held unacknowledged, its prefetch.
    expect(events.filter((event) => extension(event, "rabbitmqredelivered") === true)).toHaveLength(20);
    await again.end();
  });

  it("a cut connection fails the stream (Core restarts it) and every unacknowledged message is redelivered", async () => {
    const queue = await broker.queue("cut");
    await broker.publish(queue, numbered(1, 3));
    const proxy = await startTcpProxy({ host: "127.0.0.1", port: 5672 });
    try {
      const url = `amqp://guest:guest@127.0.0.1:${proxy.port}`;
      const stream = readStream(served.client, { url, queue }, { maxBatchSize: 2, credits: 1 });
      const batch = await stream.batch();
      proxy.cut();
      stream.commit(batch); // Too late: the channel is gone, so the broker redelivers these too.
      stream.credit(1); // The next read finds the connection gone.
      const ended = await stream.reader.status;
      expect(ended.code).toBe(status.UNAVAILABLE);
      expect(ended.details).toMatch(/source failed: .*(closed|ECONNRESET)/);
      await until(async () => (await broker.ready(queue)) === 3, "the three messages are back");
    } finally {
      await proxy.close();
    }
  });

  describe("a batch handed out after a commit notice means the broker has that commit's acknowledgement", () => {
    let proxy: TcpProxy;
    let opened: jest.SpiedFunction<typeof DeliverySession.open>;
    let stop: AbortController;
    beforeEach(async () => {
      stop = new AbortController();
      proxy = await startTcpProxy({ host: "127.0.0.1", port: 5672 });
      // Calls through: only to see the session's buffer, which no broker query shows.
      opened = jest.spyOn(DeliverySession, "open");
    });
    afterEach(async () => {
      stop.abort();
      opened.mockRestore();
      await proxy.close();
    });

    /**
     * The source read directly (no gRPC in between, so nothing but the broker's answer can hold a
     * batch back), through the proxy, in batches of 3: the first batch read, the next three
     * messages waiting in the source (the next batch needs nothing more from the network), then
     * a partition (the basic.ack leaves the source but cannot reach the broker), the first
     * batch's commit notice and the ask for the next batch, which must not come at once.
     */
    async function commitDuringPartition(prefix: string) {
      const queue = await broker.queue(prefix);
      await broker.publish(queue, numbered(1, 6));
      const url = `amqp://guest:guest@127.0.0.1:${proxy.port}`;
      const config = sourceConfig(url, queue, { prefetch: 6, batchSize: 3 });
      const batches = rabbitmqSource
        .read(config, {
          checkpoint: undefined,
          maxBatchSize: 3,
          maxBatchBytes: 0,
          eventMajor: 1,
          // Long enough for the first batch to fill; a full batch never waits for it.
          lingerMs: 30_000,
          credits: 2,
          stageId: "rabbit",
          signal: stop.signal,
        })
        [Symbol.asyncIterator]();
      const first = await batches.next();
      if (first.done) throw new Error("the source ended before its first batch");
      expect(first.value.events.map((event) => event.id)).toEqual(["id-1", "id-2", "id-3"]);
      const session = (await opened.mock.results[0]?.value) as DeliverySession;
      await until(async () => session.buffered === 3, "the next three messages wait in the source");

      proxy.hold();
      const committing = rabbitmqSource.onCommit?.(first.value.checkpoint.position, config);
      const second = batches.next();
      expect(await settlesAtOnce(second)).toBe(false);
      return { queue, batches, committing, second };
    }

    it("holds the next batch back until the broker confirmed the acknowledgement", async () => {
      const { queue, batches, committing, second } = await commitDuringPartition("ack-confirmed");
      proxy.restore();
      const next = await second;
      expect(next.done ? [] : next.value.events.map((event) => event.id)).toEqual(["id-4", "id-5", "id-6"]);
      await committing;
      // The broker had the acknowledgement when the batch came: a connection cut now returns
      // only the second batch's three messages to the queue, not the committed first three.
      proxy.cut();
      await until(async () => (await broker.consumers(queue)) === 0, "the source's consumer is gone");
      expect(await broker.ready(queue)).toBe(3);
      await batches.return?.(undefined);
    });

    it("a confirmation the broker never gives (the connection is cut) fails the stream instead of hanging it", async () => {
      const { queue, committing, second } = await commitDuringPartition("ack-unconfirmed");
      proxy.cut();
      await expect(second).rejects.toThrow(/closed|ECONNRESET/);
      // The commit notice itself fails nothing: the broker redelivers what it did not get.
      await expect(committing).resolves.toBeUndefined();
      await until(async () => (await broker.ready(queue)) === 6, "the six messages are back in the queue");
    });
  });

  it("recognises CloudEvents in binary mode under every header convention, and in structured mode", async () => {
    const queue = await broker.queue("cloudevents");
    const binary = (prefix: string, id: string) => ({
      body: '{"total":12345678901234567890}',
      options: {
        contentType: "application/json",
        headers: {
          [`${prefix}specversion`]: "1.0",
          [`${prefix}id`]: id,
          [`${prefix}source`]: "/shop",
          [`${prefix}type`]: "order.created",
          [`${prefix}time`]: "2026-01-02T03:04:05.123456789Z",
          [`${prefix}subject`]: "o-1",
          [`${prefix}tenant`]: "acme",
          [`${prefix}count`]: 7,
          [`${prefix}flag`]: true,
          [`${prefix}blob`]: Buffer.from([1, 2]),
          unrelated: "not an attribute",
        },
      },
    });
    await broker.publish(queue, [
      binary("cloudEvents:", "b-colon"),
      binary("cloudEvents_", "b-underscore"),
      binary("ce_", "b-ce-underscore"),
      binary("ce-", "b-ce-dash"),
      {
        body: '{"specversion":"1.0","id":"s-1","source":"/shop","type":"order.created","time":"2026-01-02T03:04:05.123456789Z","tenant":"acme","big":12345678901234567890,"data":{"total":12345678901234567890}}',
        options: { contentType: "application/cloudevents+json; charset=utf-8" },
      },
      {
        body: '{"specversion":"1.0","id":"s-2","source":"/shop","type":"blob","datacontenttype":"application/octet-stream","data_base64":"AQI="}',
        options: { contentType: "application/cloudevents+json" },
      },
      {
        body: '{"specversion":"0.3","id":"bad"}',
        options: { contentType: "application/cloudevents+json", messageId: "m-bad" },
      },
    ]);
    const stream = readStream(served.client, { url: RABBITMQ_URL, queue }, { maxBatchSize: 7 });
    const events = await stream.events(7);
    for (const event of events.slice(0, 4)) {
      expect(event).toEqual(
        expect.objectContaining({
          source: "/shop",
          type: "order.created",
          subject: "o-1",
          datacontenttype: "application/json",
          time: expect.objectContaining({ seconds: 1767323045n, nanos: 123456789 }),
          data: Buffer.from('{"total":12345678901234567890}'),
        }),
      );
      expect(extension(event, "tenant")).toBe("acme");
      expect(extension(event, "count")).toBe(7);
      expect(extension(event, "flag")).toBe(true);
      expect(extension(event, "blob")).toEqual(Buffer.from([1, 2]));
      expect(event.extensions.unrelated).toBeUndefined();
    }
    expect(events.slice(0, 4).map((event) => event.id)).toEqual([
      "b-colon",
      "b-underscore",
      "b-ce-underscore",
      "b-ce-dash",
    ]);
    const [, , , , structured, base64, invalid] = events as [Event, Event, Event, Event, Event, Event, Event];
    expect(structured).toEqual(
      expect.objectContaining({
        id: "s-1",
        datacontenttype: "application/json",
        time: expect.objectContaining({ seconds: 1767323045n, nanos: 123456789 }),
        data: Buffer.from('{"total":12345678901234567890}'),
      }),
    );
    expect(extension(structured, "big")).toBe("12345678901234567890");
    expect(extension(structured, "rabbitmqroutingkey")).toBe(queue);
    expect(base64).toEqual(expect.objectContaining({ id: "s-2", data: Buffer.from([1, 2]) }));
    expect(invalid).toEqual(expect.objectContaining({ id: "m-bad", type: INVALID_CLOUDEVENT_TYPE }));
    expect(extension(invalid, "flowerror")).toMatch(/specversion must be "1.0"/);
    await stream.end();
  });

  it("cuts batches to maxBatchBytes, and the cut event opens the next batch", async () => {
    const queue = await broker.queue("bytes");
    await broker.publish(
      queue,
      [1, 2, 3].map((n) => ({ body: `${n}`.repeat(400), options: { messageId: `b-${n}` } })),
    );
    const stream = readStream(
      served.client,
      { url: RABBITMQ_URL, queue },
      { maxBatchSize: 10, maxBatchBytes: 1500, lingerMs: 1000 },
    );
    const first = await stream.batch();
    const second = await stream.batch();
    expect([first.events.map((event) => event.id), second.events.map((event) => event.id)]).toEqual([
      ["b-1", "b-2"],
      ["b-3"],
    ]);
    stream.commit(second);
    await stream.end();
    await until(async () => (await broker.consumers(queue)) === 0, "the source's consumer is gone");
    expect(await broker.ready(queue)).toBe(0);
  });

  it("declares its queue and exchange and binds them; stopWhenIdleMs ends the stream and still acknowledges the last commit", async () => {
    const queue = uniqueName("declared");
    const exchange = uniqueName("orders");
    broker.owns("queue", queue);
    broker.owns("exchange", exchange);
    const config = {
      url: RABBITMQ_URL,
      queue,
      declareQueue: true,
      exchange: { name: exchange, type: "topic", routingKeys: ["order.*"] },
      stopWhenIdleMs: 2000,
    };
    const stream = readStream(served.client, config, { maxBatchSize: 10, lingerMs: 200 });
    await until(async () => (await broker.consumers(queue)) === 1, "the source consumes");
    broker.channel.publish(exchange, "order.created", Buffer.from("a"), {
      messageId: "x-1",
      persistent: true,
    });
    broker.channel.publish(exchange, "invoice.sent", Buffer.from("b"), {
      messageId: "x-2",
      persistent: true,
    });
    await broker.channel.waitForConfirms();
    const batch = await stream.batch();
    expect(batch.events.map((event) => event.id)).toEqual(["x-1"]);
    expect(extension(batch.events[0] as Event, "rabbitmqexchange")).toBe(exchange);
    expect(extension(batch.events[0] as Event, "rabbitmqroutingkey")).toBe("order.created");
    const exhausted = await stream.reader.next();
    expect(exhausted.response?.$case).toBe("exhausted");
    stream.commit(batch);
    await stream.end();
    await until(async () => (await broker.consumers(queue)) === 0, "the source's consumer is gone");
    expect(await broker.ready(queue)).toBe(0);
    expect((await broker.channel.checkQueue(queue)).queue).toBe(queue);
  });

  it("a queue that does not exist ends the stream as a permanent failure", async () => {
    const stream = readStream(served.client, { url: RABBITMQ_URL, queue: uniqueName("absent") });
    const ended = await stream.reader.status;
    expect(ended.code).toBe(status.FAILED_PRECONDITION);
    expect(ended.details).toMatch(/NOT_FOUND/);
  });
});
