import { join } from "node:path";
import { createEvent, type FlowEvent, serveConsumer } from "@flow/sdk";
import {
  type ConsumerWriteClient,
  ConsumerWriteStream,
  serveForTests,
  startTcpProxy,
  unary,
  validateOnly,
  withMachineRequirement,
} from "@flow/testing";
import {
  createTestStream,
  NATS_HOW_TO_FIX,
  natsForTests,
  spawnService,
  TEST_NATS_URL,
  type TestStream,
} from "@flow/testing/nats";
import { credentials } from "@grpc/grpc-js";
import type { StoredMsg } from "nats";
import { Family } from "./gen/component/v1/component";
import {
  AckStatus,
  ConsumerServiceClient,
  ConsumerServiceService,
  type DescribeResponse,
  type WriteResponse,
} from "./gen/consumer_service/v1/consumer";
import { natsConsumer } from "./nats-consumer";

const served = serveForTests(
  serveConsumer,
  natsConsumer,
  { service: ConsumerServiceService, packageDir: join(__dirname, "..") },
  ConsumerServiceClient,
);
const MAIN_JS = join(__dirname, "..", "dist", "main.js");

it("describes itself over gRPC", async () => {
  const response = await unary<DescribeResponse>((done) => served.client.describe({}, done));
  expect(response.component).toEqual(
    expect.objectContaining({ name: "flow-consumer-nats", family: Family.FAMILY_CONSUMER }),
  );
});

/** A Write stream driven by the test (on the in-process service unless another client is given). */
const openWrite = (config: object, client: ConsumerWriteClient<FlowEvent, WriteResponse> = served.client) =>
  new ConsumerWriteStream(client, config);

const eventsNamed = (prefix: string, count: number, from = 1): FlowEvent[] =>
  Array.from({ length: count }, (_, index) =>
    createEvent({
      id: `${prefix}-${from + index}`,
      source: "/test",
      type: "order.created",
      data: { n: from + index },
    }),
  );

withMachineRequirement("NATS JetStream", natsForTests(), NATS_HOW_TO_FIX, () => {
  let stream: TestStream;
  beforeEach(async () => {
    stream = await createTestStream("out");
  });
  afterEach(async () => {
    await stream.remove();
  });

  const config = (extra: object = {}) => ({
    servers: [TEST_NATS_URL],
    subject: `${stream.prefix}.orders`,
    stream: stream.name,
    ...extra,
  });
  /** Every message the stream holds, in order. */
  const stored = async (): Promise<StoredMsg[]> => {
    const info = await stream.jsm.streams.info(stream.name);
    const messages: StoredMsg[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++)
      messages.push(await stream.jsm.streams.getMessage(stream.name, { seq }));
    return messages;
  };

  it("answers WRITTEN once JetStream stored the batch, as binary CloudEvents with Nats-Msg-Id = event id", async () => {
    const write = openWrite(config());
    const events = eventsNamed("e", 3);
    events[0] = {
      ...(events[0] as FlowEvent),
      subject: "orders/1",
      time: { seconds: 1_793_527_200n, nanos: 5 },
      extensions: { tenant: { value: { $case: "stringValue", value: "acme" } } },
    };
    write.send(events);
    expect(await write.ack()).toEqual(expect.objectContaining({ status: AckStatus.ACK_STATUS_WRITTEN }));
    await write.end();

    const messages = await stored();
    expect(messages.map((message) => message.header.get("Nats-Msg-Id"))).toEqual(["e-1", "e-2", "e-3"]);
    const first = messages[0] as StoredMsg;
    expect(first.subject).toBe(`${stream.prefix}.orders`);
    expect(JSON.parse(Buffer.from(first.data).toString())).toEqual({ n: 1 });
    expect(
      Object.fromEntries(first.header.keys().map((key) => [key.toLowerCase(), first.header.get(key)])),
    ).toEqual(
      expect.objectContaining({
        "ce-specversion": "1.0",
        "ce-id": "e-1",
        "ce-source": "/test",
        "ce-type": "order.created",
        "ce-subject": "orders/1",
        "ce-time": "2026-11-01T10:00:00.000000005Z",
        "ce-tenant": "acme",
        "content-type": "application/json",
      }),
    );
  });

  it("sends structured CloudEvents on request", async () => {
    const write = openWrite(config({ mode: "structured" }));
    write.send(eventsNamed("s", 1));
    expect((await write.ack()).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
    await write.end();
    const [message] = await stored();
    expect(message?.header.get("content-type")).toBe("application/cloudevents+json");
    expect(JSON.parse(Buffer.from(message?.data ?? []).toString())).toEqual({
      specversion: "1.0",
      id: "s-1",
      source: "/test",
      type: "order.created",
      datacontenttype: "application/json",
      data: { n: 1 },
    });
  });

  it("a batch sent again adds no duplicate to the stream (Nats-Msg-Id)", async () => {
    const write = openWrite(config());
    const events = eventsNamed("d", 5);
    write.send(events);
    write.send(events);
    expect((await write.ack()).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
    expect((await write.ack()).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
    await write.end();
    expect((await stored()).map((message) => message.header.get("Nats-Msg-Id"))).toEqual([
      "d-1",
      "d-2",
      "d-3",
      "d-4",
      "d-5",
    ]);
  });

  it("answers a permanent failure with the broker's reason when no stream stores the subject", async () => {
    const write = openWrite(config({ stream: undefined }));
    write.send(eventsNamed("p", 1));
    expect((await write.ack()).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
    await stream.jsm.streams.delete(stream.name);
    write.send(eventsNamed("p", 2, 2));
    const ack = await write.ack();
    await write.end();
    expect(ack).toEqual(
      expect.objectContaining({
        status: AckStatus.ACK_STATUS_PERMANENT_FAILURE,
        reason: expect.stringContaining("no JetStream stream stores subject"),
      }),
    );
  });

  it("never answers WRITTEN while its broker connection is cut, and recovers when it is back", async () => {
    const proxy = await startTcpProxy({
      host: "127.0.0.1",
      port: Number(new URL(TEST_NATS_URL).port || 4222),
    });
    try {
      const write = openWrite(config({ servers: [`nats://${proxy.host}:${proxy.port}`], ackTimeoutMs: 500 }));
      write.send(eventsNamed("c", 2, 1));
      expect((await write.ack()).status).toBe(AckStatus.ACK_STATUS_WRITTEN);

      proxy.cut();
      const cutBatch = eventsNamed("c", 3, 3);
      write.send(cutBatch);
      const refused = await write.ack();
      expect(refused).toEqual(
        expect.objectContaining({
          status: AckStatus.ACK_STATUS_RETRYABLE_FAILURE,
          reason: expect.any(String),
        }),
      );

      proxy.restore();
      // Core's retry: the same batch again until it is WRITTEN.
      for (;;) {
        write.send(cutBatch);
        const ack = await write.ack();
        if (ack.status === AckStatus.ACK_STATUS_WRITTEN) break;
        expect(ack.status).toBe(AckStatus.ACK_STATUS_RETRYABLE_FAILURE);
      }
      await write.end();
      expect((await stored()).map((message) => message.header.get("Nats-Msg-Id"))).toEqual([
        "c-1",
        "c-2",
        "c-3",
        "c-4",
        "c-5",
      ]);
    } finally {
      await proxy.close();
    }
  });

  it("after a SIGKILL mid-run, sending the unanswered batches again loses nothing and duplicates nothing", async () => {
    const batches = Array.from({ length: 20 }, (_, index) => eventsNamed("k", 50, index * 50 + 1));
    const service = await spawnService(MAIN_JS);
    const client = new ConsumerServiceClient(service.address, credentials.createInsecure());
    let written = 0;
    try {
      const write = openWrite(config(), client);
      for (const batch of batches) write.send(batch);
      expect((await write.ack()).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
      written = 1;
      await service.kill("SIGKILL");
    } finally {
      client.close();
      await service.kill("SIGKILL");
    }
    // As Core does after a consumer crash: every batch not answered WRITTEN goes again.
    const again = openWrite(config());
    for (const batch of batches.slice(written)) again.send(batch);
    for (const _ of batches.slice(written))
      expect((await again.ack()).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
    await again.end();
    const ids = (await stored()).map((message) => message.header.get("Nats-Msg-Id"));
    expect(ids).toHaveLength(1000);
    expect(new Set(ids).size).toBe(1000);
  });

  describe("validate-only reaches the server", () => {
    const validate = (extra: object) => validateOnly(served.client, config(extra));

    it("accepts a stream that covers the subject", async () => {
      expect(await validate({})).toEqual(expect.objectContaining({ accepted: true, issues: [] }));
      expect(await validate({ stream: undefined })).toEqual(expect.objectContaining({ accepted: true }));
    });

    it("reports an unreachable server at /servers", async () => {
      const response = await validate({ servers: ["nats://127.0.0.1:1"] });
      expect(response.issues).toEqual([expect.objectContaining({ path: "/servers" })]);
    });

    it("reports a missing stream at /stream", async () => {
      const response = await validate({ stream: `${stream.name}_missing` });
      expect(response.issues).toEqual([expect.objectContaining({ path: "/stream" })]);
    });

    it("reports a subject no stream stores, or the stream does not cover, at /subject", async () => {
      expect((await validate({ subject: "elsewhere.orders" })).issues).toEqual([
        expect.objectContaining({ path: "/subject", message: expect.stringContaining("does not cover") }),
      ]);
      expect((await validate({ subject: "elsewhere.orders", stream: undefined })).issues).toEqual([
        expect.objectContaining({
          path: "/subject",
          message: expect.stringContaining("no JetStream stream"),
        }),
      ]);
    });
  });
});
