import { join } from "node:path";
import { createEvent, serveConsumer } from "@flow/sdk";
import { ConsumerWriteStream, serveForTests, startTcpProxy, unary, validateOnly } from "@flow/testing";
import { TEST_MQTT_URL, uniqueName, withMosquitto } from "@flow/testing/mosquitto";
import type { IPublishPacket, MqttClient } from "mqtt";
import { connectAsync } from "mqtt";
import { Family } from "./gen/component/v1/component";
import {
  AckStatus,
  ConsumerServiceClient,
  ConsumerServiceService,
  type DescribeResponse,
} from "./gen/consumer_service/v1/consumer";
import { mqttConsumer } from "./mqtt-consumer";

const served = serveForTests(
  serveConsumer,
  mqttConsumer,
  { service: ConsumerServiceService, packageDir: join(__dirname, "..") },
  ConsumerServiceClient,
);

it("describes itself over gRPC", async () => {
  const response = await unary<DescribeResponse>((done) => served.client.describe({}, done));
  expect(response.component).toEqual(
    expect.objectContaining({ name: "flow-consumer-mqtt", family: Family.FAMILY_CONSUMER }),
  );
});

/** A Write stream of the served consumer. */
const open = (config: object) => new ConsumerWriteStream(served.client, config, { stageId: "mqtt-out" });

const events = (ids: string[]) =>
  ids.map((id) =>
    createEvent({
      id,
      source: "/orders",
      type: "order.created",
      subject: `o-${id}`,
      time: new Date("2026-11-30T10:00:00.000Z"),
      data: { id },
      extensions: { tenant: { value: { $case: "stringValue", value: "acme" } } },
    }),
  );

withMosquitto(() => {
  /** A subscriber on a topic of its own, collecting what arrives. */
  async function subscriber(protocolVersion: 4 | 5 = 5) {
    const topic = `flow-test/${uniqueName("out")}`;
    const client: MqttClient = await connectAsync(TEST_MQTT_URL, { protocolVersion, reconnectPeriod: 0 });
    const received: IPublishPacket[] = [];
    const waiters: (() => void)[] = [];
    client.on("message", (_topic, _payload, packet) => {
      received.push(packet);
      for (const wake of waiters.splice(0)) wake();
    });
    await client.subscribeAsync(topic, { qos: 1 });
    const take = async (count: number) => {
      while (received.length < count) await new Promise<void>((resolve) => waiters.push(resolve));
      return received.slice(0, count);
    };
    return { topic, take, received, close: () => client.endAsync() };
  }

  it("publishes a batch as binary-mode CloudEvents and answers WRITTEN once every PUBACK is in", async () => {
    const sub = await subscriber();
    try {
      const consumer = open({ url: TEST_MQTT_URL, topic: sub.topic });
      const ack = await consumer.write(events(["1", "2", "3"]));
      expect(ack).toEqual(expect.objectContaining({ sequence: 1n, status: AckStatus.ACK_STATUS_WRITTEN }));
      const packets = await sub.take(3);
      await consumer.end();
      expect(packets.map((packet) => packet.payload.toString())).toEqual([
        '{"id":"1"}',
        '{"id":"2"}',
        '{"id":"3"}',
      ]);
      expect(packets[0]?.properties?.contentType).toBe("application/json");
      expect(packets[0]?.properties?.userProperties).toEqual({
        specversion: "1.0",
        id: "1",
        source: "/orders",
        type: "order.created",
        subject: "o-1",
        time: "2026-11-30T10:00:00.000000000Z",
        tenant: "acme",
      });
      expect(packets.every((packet) => packet.qos === 1)).toBe(true);
    } finally {
      await sub.close();
    }
  });

  it("publishes structured mode (application/cloudevents+json), also over MQTT 3.1.1", async () => {
    for (const protocolVersion of [5, 4] as const) {
      const sub = await subscriber(protocolVersion);
      try {
        const consumer = open({ url: TEST_MQTT_URL, topic: sub.topic, mode: "structured", protocolVersion });
        expect((await consumer.write(events(["s1"]))).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
        const [packet] = await sub.take(1);
        await consumer.end();
        expect(JSON.parse(packet?.payload.toString() ?? "")).toEqual(
          expect.objectContaining({
            specversion: "1.0",
            id: "s1",
            type: "order.created",
            data: { id: "s1" },
            tenant: "acme",
          }),
        );
        if (protocolVersion === 5)
          expect(packet?.properties?.contentType).toBe("application/cloudevents+json");
      } finally {
        await sub.close();
      }
    }
  });

  it("keeps within the broker's Receive Maximum: a batch far larger than it is WRITTEN, in order", async () => {
    const sub = await subscriber();
    try {
      const consumer = open({ url: TEST_MQTT_URL, topic: sub.topic });
      const ids = Array.from({ length: 500 }, (_, index) => String(index));
      expect((await consumer.write(events(ids))).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
      const packets = await sub.take(500);
      await consumer.end();
      expect(packets.map((packet) => packet.properties?.userProperties?.id)).toEqual(ids);
    } finally {
      await sub.close();
    }
  });

  it("fails a batch nobody subscribes to (the broker dropped it), unless told not to care", async () => {
    const topic = `flow-test/${uniqueName("nobody")}`;
    const strict = open({ url: TEST_MQTT_URL, topic });
    const refused = await strict.write(events(["n1"]));
    await strict.end();
    expect(refused).toEqual(
      expect.objectContaining({
        status: AckStatus.ACK_STATUS_RETRYABLE_FAILURE,
        reason: expect.stringMatching(/no matching subscribers/),
      }),
    );
    const lax = open({ url: TEST_MQTT_URL, topic, requireSubscribers: false });
    expect((await lax.write(events(["n1"]))).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
    await lax.end();
  });

  it("refuses for good, publishing none of the batch, an event whose attribute no MQTT 5 user property can hold", async () => {
    const sub = await subscriber();
    try {
      const consumer = open({ url: TEST_MQTT_URL, topic: sub.topic });
      const [fits, tooLong] = events(["u1", "u2"]);
      const oversized = {
        ...(tooLong as ReturnType<typeof createEvent>),
        extensions: { pad: { value: { $case: "stringValue" as const, value: "p".repeat(1024 * 1024) } } },
      };
      const refused = await consumer.write([fits as ReturnType<typeof createEvent>, oversized]);
      expect(refused).toEqual(
        expect.objectContaining({
          status: AckStatus.ACK_STATUS_PERMANENT_FAILURE,
          reason: expect.stringMatching(/event u2\b.*"pad".*1048576 bytes.*65535.*structured/),
        }),
      );
      // The same connection goes on, and nothing of the refused batch reached the topic.
      expect((await consumer.write(events(["u3"]))).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
      const [first] = await sub.take(1);
      await consumer.end();
      expect(first?.properties?.userProperties?.id).toBe("u3");
    } finally {
      await sub.close();
    }
  });

  it("refuses for good an event over the broker's packet size (maxPacketBytes), before publishing any of its batch", async () => {
    const sub = await subscriber();
    try {
      const consumer = open({ url: TEST_MQTT_URL, topic: sub.topic, maxPacketBytes: 2000 });
      const [small, large] = events(["p1", "p2"]);
      const big = { ...(large as ReturnType<typeof createEvent>), data: Buffer.alloc(5000, 0x61) };
      expect(await consumer.write([small as ReturnType<typeof createEvent>, big])).toEqual(
        expect.objectContaining({
          status: AckStatus.ACK_STATUS_PERMANENT_FAILURE,
          reason: expect.stringMatching(
            /event p2\b.*PUBLISH packet is \d+ bytes.*Maximum Packet Size of 2000/,
          ),
        }),
      );
      expect((await consumer.write(events(["p3"]))).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
      const [first] = await sub.take(1);
      await consumer.end();
      expect(first?.properties?.userProperties?.id).toBe("p3");
    } finally {
      await sub.close();
    }
  });

  it("never answers WRITTEN for what the broker did not acknowledge when the connection is cut, and recovers", async () => {
    const sub = await subscriber();
    const proxy = await startTcpProxy({ host: "127.0.0.1", port: 1883 });
    try {
      const consumer = open({ url: `mqtt://127.0.0.1:${proxy.port}`, topic: sub.topic });
      expect((await consumer.write(events(["c1"]))).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
      proxy.hold(); // the PUBACKs cannot come back
      const answer = consumer.write(events(["c2", "c3"]));
      proxy.cut();
      expect(await answer).toEqual(
        expect.objectContaining({
          status: AckStatus.ACK_STATUS_RETRYABLE_FAILURE,
          reason: expect.stringMatching(/closed/),
        }),
      );
      proxy.restore();
      expect((await consumer.write(events(["c2", "c3"]))).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
      await consumer.end();
      const packets = await sub.take(3);
      expect(packets.map((packet) => packet.properties?.userProperties?.id)).toEqual(["c1", "c2", "c3"]);
    } finally {
      await proxy.close();
      await sub.close();
    }
  });

  describe("validate-only", () => {
    const configure = (config: object) => validateOnly(served.client, config, "mqtt-out");

    it("accepts a reachable broker", async () => {
      expect(await configure({ url: TEST_MQTT_URL, topic: "flow-test/x" })).toEqual(
        expect.objectContaining({ accepted: true, issues: [] }),
      );
    });

    it("reports an unreachable broker at /url, and what MQTT cannot do at its field", async () => {
      const proxy = await startTcpProxy({ host: "127.0.0.1", port: 1883 });
      proxy.cut();
      try {
        const unreachable = await configure({
          url: `mqtt://127.0.0.1:${proxy.port}`,
          topic: "flow-test/x",
          connectTimeoutMs: 2000,
        });
        expect(unreachable.issues).toEqual([
          expect.objectContaining({ path: "/url", message: expect.stringMatching(/cannot reach/) }),
        ]);
      } finally {
        await proxy.close();
      }
      const wrong = await configure({ url: TEST_MQTT_URL, topic: "flow-test/#", protocolVersion: 4 });
      expect(wrong.issues.map((issue) => issue.path)).toEqual(["/mode", "/topic"]);
    });
  });
});
