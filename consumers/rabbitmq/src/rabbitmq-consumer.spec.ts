import { join } from "node:path";
import { createEvent, type FlowEvent, serveConsumer, timestampFromRfc3339 } from "@flow/sdk";
import {
  ConsumerWriteStream,
  readmeJsonSchema,
  serveForTests,
  startTcpProxy,
  unary,
  validateOnly,
} from "@flow/testing";
import { Family, Severity } from "./gen/component/v1/component";
import {
  AckStatus,
  ConsumerServiceClient,
  ConsumerServiceService,
  type DescribeResponse,
} from "./gen/consumer_service/v1/consumer";
import { rabbitmqConsumer } from "./rabbitmq-consumer";
import { rabbitmqConsumerConfigSchema } from "./rabbitmq-consumer-config";
import { BROKER_URL, BrokerFixture, whenBrokerAnswers } from "./test-support/broker-for-tests";

const served = serveForTests(
  serveConsumer,
  rabbitmqConsumer,
  { service: ConsumerServiceService, packageDir: join(__dirname, "..") },
  ConsumerServiceClient,
);

/** A Write stream as Core drives it. */
const open = (config: object) => new ConsumerWriteStream(served.client, config, { stageId: "out" });

const orders = (from: number, count: number): FlowEvent[] =>
  Array.from({ length: count }, (_, i) =>
    createEvent({ id: `order-${from + i}`, source: "/shop", type: "order.created", data: { n: from + i } }),
  );

it("describes itself: not idempotent (RabbitMQ has no dedup by id), its schema as in the README", async () => {
  const { component } = await unary<DescribeResponse>((done) => served.client.describe({}, done));
  expect(component).toEqual(
    expect.objectContaining({ name: "flow-consumer-rabbitmq", family: Family.FAMILY_CONSUMER }),
  );
  expect(component?.features?.idempotent).toBe(false);
  expect(readmeJsonSchema(join(__dirname, ".."))).toEqual(rabbitmqConsumerConfigSchema);
});

whenBrokerAnswers("the RabbitMQ consumer against the real broker", () => {
  let broker: BrokerFixture;
  beforeEach(async () => {
    broker = await BrokerFixture.connect();
  });
  afterEach(async () => {
    await broker.remove();
  });

  const configure = (config: object) => validateOnly(served.client, config, "out");

  it("validate-only reaches the broker: unreachable, bad credentials, no such exchange or queue", async () => {
    const queue = await broker.queue("validate");
    expect(await configure({ url: BROKER_URL, routingKey: queue })).toEqual(
      expect.objectContaining({ accepted: true, issues: [] }),
    );

    const proxy = await startTcpProxy({ host: "127.0.0.1", port: 5672 });
    proxy.cut();
    const down = await configure({ url: `amqp://guest:guest@127.0.0.1:${proxy.port}`, routingKey: queue });
    await proxy.close();
    expect(down.issues).toEqual([
      expect.objectContaining({
        path: "/url",
        severity: Severity.SEVERITY_ERROR,
        message: expect.stringContaining("cannot"),
      }),
    ]);
    const refused = await configure({
      url: BROKER_URL.replace(/\/\/[^@]*@/, "//guest:wrong@"),
      routingKey: queue,
    });
    expect(refused.issues).toEqual([
      expect.objectContaining({ path: "/url", message: expect.stringContaining("refused the credentials") }),
    ]);
    const noExchange = await configure({ url: BROKER_URL, exchange: broker.name("none"), routingKey: "x" });
    expect(noExchange.issues).toEqual([
      expect.objectContaining({ path: "/exchange", message: expect.stringContaining("does not exist") }),
    ]);
    const noQueue = await configure({ url: BROKER_URL, routingKey: broker.name("none") });
    expect(noQueue.issues).toEqual([
      expect.objectContaining({ path: "/routingKey", message: expect.stringContaining("does not exist") }),
    ]);
    expect((await configure({ url: BROKER_URL })).issues).toEqual([
      expect.objectContaining({ path: "/routingKey" }),
    ]);
  });

  it("publishes persistent binary-mode CloudEvents: attributes in cloudEvents: headers, datacontenttype as content-type, id as message-id", async () => {
    const queue = await broker.queue("binary");
    const sink = open({ url: BROKER_URL, routingKey: queue });
    const event = createEvent({
      id: "e-1",
      source: "/shop",
      type: "order.created",
      subject: "o-1",
      time: timestampFromRfc3339("2026-01-02T03:04:05.123456789Z"),
      dataschema: "https://example.com/order",
      extensions: {
        tenant: { value: { $case: "stringValue", value: "acme" } },
        count: { value: { $case: "integerValue", value: 7 } },
        flag: { value: { $case: "booleanValue", value: true } },
        blob: { value: { $case: "binaryValue", value: Buffer.from([1, 2]) } },
      },
      data: { total: 12.5 },
    });
    expect(await sink.write([event, ...orders(2, 2)], 1n)).toMatchObject({
      sequence: 1n,
      status: AckStatus.ACK_STATUS_WRITTEN,
    });
    await sink.end();

    const [first, ...rest] = await broker.drain(queue);
    expect(rest).toHaveLength(2);
    expect(first?.content.toString()).toBe('{"total":12.5}');
    expect(first?.properties).toEqual(
      expect.objectContaining({
        deliveryMode: 2,
        messageId: "e-1",
        contentType: "application/json",
        timestamp: 1767323045,
      }),
    );
    // Quorum queues add their own x-delivery-count.
    expect(first?.properties.headers).toEqual({
      "x-delivery-count": 0,
      "cloudEvents:specversion": "1.0",
      "cloudEvents:id": "e-1",
      "cloudEvents:source": "/shop",
      "cloudEvents:type": "order.created",
      "cloudEvents:subject": "o-1",
      "cloudEvents:time": "2026-01-02T03:04:05.123456789Z",
      "cloudEvents:dataschema": "https://example.com/order",
      "cloudEvents:tenant": "acme",
      "cloudEvents:count": 7,
      "cloudEvents:flag": true,
      "cloudEvents:blob": Buffer.from([1, 2]),
    });
    expect(rest.map((message) => message.properties.messageId)).toEqual(["order-2", "order-3"]);
  });

  it("publishes structured mode as application/cloudevents+json", async () => {
    const queue = await broker.queue("structured");
    const sink = open({ url: BROKER_URL, routingKey: queue, mode: "structured" });
    expect((await sink.write(orders(1, 1), 1n)).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
    await sink.end();
    const [message] = await broker.drain(queue);
    expect(message?.properties).toEqual(
      expect.objectContaining({
        deliveryMode: 2,
        messageId: "order-1",
        contentType: "application/cloudevents+json; charset=utf-8",
      }),
    );
    expect(JSON.parse(message?.content.toString() ?? "")).toEqual({
      specversion: "1.0",
      id: "order-1",
      source: "/shop",
      type: "order.created",
      datacontenttype: "application/json",
      data: { n: 1 },
    });
  });

  it("routes by an event attribute through a topic exchange", async () => {
    const eu = await broker.queue("eu");
    const us = await broker.queue("us");
    const exchange = await broker.exchange("regions", [
      { queue: eu, key: "eu.*" },
      { queue: us, key: "us.*" },
    ]);
    const sink = open({ url: BROKER_URL, exchange, routingKeyAttribute: "subject" });
    const events = ["eu.de", "us.ny", "eu.fr"].map((subject, i) =>
      createEvent({ id: `r-${i}`, source: "/s", type: "t", subject }),
    );
    expect((await sink.write(events, 1n)).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
    await sink.end();
    expect((await broker.drain(eu)).map((message) => message.properties.messageId)).toEqual(["r-0", "r-2"]);
    expect((await broker.drain(us)).map((message) => message.properties.messageId)).toEqual(["r-1"]);
  });

  it("a broker that refuses a message (nack: the queue is full) is a retryable failure, never WRITTEN", async () => {
    const queue = await broker.queue("full", {
      "x-queue-type": "classic",
      "x-max-length": 2,
      "x-overflow": "reject-publish",
    });
    const sink = open({ url: BROKER_URL, routingKey: queue });
    const ack = await sink.write(orders(1, 3), 1n);
    expect(ack.status).toBe(AckStatus.ACK_STATUS_RETRYABLE_FAILURE);
    expect(ack.reason).toMatch(/nacked event order-3/);
    expect(await broker.count(queue)).toBe(2);
    // Room again: the retried batch goes through (and the two accepted before are there twice).
    await broker.drain(queue);
    expect((await sink.write(orders(1, 2), 1n)).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
    await sink.end();
  });

  it("a message no queue takes, or one over the size limit, fails the batch permanently with the reason", async () => {
    const exchange = await broker.exchange("nowhere");
    const sink = open({ url: BROKER_URL, exchange, routingKey: "lost.key" });
    const unroutable = await sink.write(orders(1, 2), 1n);
    expect(unroutable.status).toBe(AckStatus.ACK_STATUS_PERMANENT_FAILURE);
    expect(unroutable.reason).toMatch(/returned 2 of 2 messages as unroutable.*"lost.key"/);
    await sink.end();

    const queue = await broker.queue("small");
    const small = open({ url: BROKER_URL, routingKey: queue, maxMessageBytes: 4 });
    const tooLarge = await small.write(orders(1, 1), 1n);
    expect(tooLarge).toMatchObject({
      status: AckStatus.ACK_STATUS_PERMANENT_FAILURE,
      reason: expect.stringMatching(/more than the broker's limit of 4/),
    });
    await small.end();
    expect(await broker.count(queue)).toBe(0);
  });

  it("a cut connection never answers WRITTEN for what the broker did not accept, and the next batch recovers", async () => {
    const queue = await broker.queue("cut");
    const proxy = await startTcpProxy({ host: "127.0.0.1", port: 5672 });
    try {
      const sink = open({ url: `amqp://guest:guest@127.0.0.1:${proxy.port}`, routingKey: queue });
      expect((await sink.write(orders(1, 5), 1n)).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
      expect(await broker.count(queue)).toBe(5);

      // The network goes silent while batch 2 is on its way, then the connection is reset.
      proxy.hold();
      sink.send(orders(6, 5), 2n);
      proxy.cut();
      const failed = await sink.ack();
      expect(failed).toMatchObject({ sequence: 2n, status: AckStatus.ACK_STATUS_RETRYABLE_FAILURE });
      expect(failed.reason).toMatch(/RabbitMQ did not confirm the batch|cannot reach/);
      expect(await broker.count(queue)).toBe(5);

      // Core retries; while the broker is unreachable the retry fails too, once it is back it is WRITTEN.
      expect((await sink.write(orders(6, 5), 2n)).status).toBe(AckStatus.ACK_STATUS_RETRYABLE_FAILURE);
      proxy.restore();
      expect((await sink.write(orders(6, 5), 2n)).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
      await sink.end();
      expect((await broker.drain(queue)).map((message) => message.properties.messageId)).toEqual(
        orders(1, 10).map((event) => event.id),
      );
    } finally {
      await proxy.close();
    }
  });
});
