import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { serveSource } from "@flow/sdk";
import { parseHandshake } from "@flow/sdk/internal";
import {
  eventsIn,
  type ReadBatch,
  type SourceReadClient,
  type SourceReadOptions,
  SourceReadStream,
  serveForTests,
  startTcpProxy,
  unary,
  validateOnly,
} from "@flow/testing";
import {
  publishAll,
  publishWhenSubscribed,
  removeSession,
  TEST_MQTT_URL,
  testPublisher,
  uniqueName,
  withMosquitto,
} from "@flow/testing/mosquitto";
import { credentials } from "@grpc/grpc-js";
import type { MqttClient } from "mqtt";
import { Family, Severity } from "./gen/component/v1/component";
import type { Event } from "./gen/event/v1/event";
import {
  type DescribeResponse,
  type ReadResponse,
  SourceServiceClient,
  SourceServiceService,
} from "./gen/source_service/v1/source";
import { mqttSource } from "./mqtt-source";

const served = serveForTests(
  serveSource,
  mqttSource,
  { service: SourceServiceService, packageDir: join(__dirname, "..") },
  SourceServiceClient,
);

type Batch = ReadBatch<ReadResponse>;

/** A Read stream of the source `client` serves, with 100 credits unless said otherwise. */
const start = (client: SourceReadClient<ReadResponse>, config: object, options: SourceReadOptions = {}) =>
  new SourceReadStream(client, config, { credits: 100, stageId: "mqtt", ...options });

const text = (event: Event): string => event.data.toString("utf8");
const ext = (event: Event, name: string) => event.extensions[name]?.value?.value;
const range = (from: number, to: number): string[] =>
  Array.from({ length: to - from + 1 }, (_, index) => `m${from + index}`);

it("describes itself over gRPC", async () => {
  const response = await unary<DescribeResponse>((done) => served.client.describe({}, done));
  expect(response.component).toEqual(
    expect.objectContaining({ name: "flow-source-mqtt", family: Family.FAMILY_SOURCE }),
  );
});

withMosquitto(() => {
  let publisher: MqttClient;
  const clientIds: string[] = [];
  /** A configuration with a topic and a persistent session of its own, removed after the tests. */
  const freshConfig = (extra: object = {}) => {
    const clientId = uniqueName("flow-test-source");
    clientIds.push(clientId);
    const topic = `flow-test/${uniqueName("topic")}`;
    return { topic, config: { url: TEST_MQTT_URL, clientId, topics: [topic], ...extra } };
  };

  /** Waits until the stream's session is subscribed to `topic`, reading the one message that proved it. */
  const subscribed = async (source: ReturnType<typeof start>, topic: string): Promise<Batch> => {
    await publishWhenSubscribed(publisher, topic, "ready");
    const batches = await source.batchesOf(1);
    expect(eventsIn(batches).map(text)).toEqual(["ready"]);
    return batches[0] as Batch;
  };

  /** Creates the persistent session and its subscription, and leaves it with nothing unacknowledged. */
  const openSession = async (config: object, topic: string): Promise<void> => {
    const source = start(served.client, config, { maxBatchSize: 1, credits: 1 });
    source.commit(await subscribed(source, topic));
    await source.end();
  };

  beforeAll(async () => {
    publisher = await testPublisher();
  });
  afterAll(async () => {
    await publisher.endAsync();
    for (const clientId of clientIds) await removeSession(clientId);
  });

  it("turns messages into events with the topic, QoS, retain, dup and packet id, in order", async () => {
    const { topic, config } = freshConfig();
    const source = start(served.client, config);
    await subscribed(source, topic);
    await publishAll(publisher, topic, range(1, 5), {
      properties: { userProperties: { region: "eu" }, contentType: "text/plain" },
    });
    const events = await source.events(5);
    await source.end();

    expect(events.map(text)).toEqual(range(1, 5));
    const first = events[0] as Event;
    expect(first).toEqual(
      expect.objectContaining({ type: "flow.mqtt.message", subject: topic, datacontenttype: "text/plain" }),
    );
    expect(first.source).toBe(`mqtt://127.0.0.1:1883/${topic}`);
    expect(ext(first, "mqtttopic")).toBe(topic);
    expect(ext(first, "mqttqos")).toBe(1);
    expect(ext(first, "mqttretain")).toBe(false);
    expect(ext(first, "mqttdup")).toBe(false);
    expect(typeof ext(first, "mqttpacketid")).toBe("number");
    expect(ext(first, "region")).toBe("eu");
    expect(new Set(events.map((event) => event.id)).size).toBe(5);
  });

  it("acknowledges only what Core committed: an ended stream gets the rest again, marked dup", async () => {
    const { topic, config } = freshConfig();
    // One event per batch and exactly the credits needed, so a later credit proves the commit
    // notice before it was handled (the SDK reads the stream's messages in order).
    let source = start(served.client, config, { maxBatchSize: 1, credits: 7 });
    await subscribed(source, topic);
    await publishAll(publisher, topic, range(1, 6));
    const first = await source.batchesOf(6);
    source.commit(first[2] as Batch); // m3 and everything before it
    source.credit(1);
    await publishAll(publisher, topic, ["m7"]);
    await source.batchesOf(1);
    await source.end();

    source = start(served.client, config, { maxBatchSize: 1, credits: 5 });
    const again = await source.batchesOf(4);
    expect(eventsIn(again).map(text)).toEqual(["m4", "m5", "m6", "m7"]);
    expect(eventsIn(again).map((event) => ext(event, "mqttdup"))).toEqual([true, true, true, true]);
    source.commit(again[3] as Batch);
    source.credit(1);
    await publishAll(publisher, topic, ["m8"]);
    await source.batchesOf(1);
    await source.end();

    // Everything up to m7 was committed and acknowledged: a new stream gets m8 (never committed) and m9 only.
    source = start(served.client, config);
    await publishAll(publisher, topic, ["m9"]);
    const last = await source.batchesOf(2);
    await source.end();
    expect(eventsIn(last).map(text)).toEqual(["m8", "m9"]);
  });

  it("cuts batches to maxBatchSize and maxBatchBytes", async () => {
    const { topic, config } = freshConfig();
    await openSession(config, topic);
    await publishAll(publisher, topic, ["x".repeat(1000), "y".repeat(1000), "z".repeat(1000)]);
    await publishAll(publisher, topic, ["a", "b", "c", "d", "e", "f", "g"]);
    // Everything waits in the session, so the batches are cut by the limits alone.
    const source = start(served.client, config, { maxBatchSize: 4, maxBatchBytes: 3000, lingerMs: 10_000 });
    const batches = await source.batchesOf(10);
    await source.end();
    expect(batches.map((batch) => batch.batch?.events.map((event) => text(event)[0]).join(""))).toEqual([
      "xy", // with their attributes, a third 1000-byte event would pass 3000 bytes
      "zabc",
      "defg",
    ]);
  });

  it("recognises CloudEvents: binary mode in MQTT 5 user properties, structured mode by content type", async () => {
    const { topic, config } = freshConfig();
    const source = start(served.client, config);
    await subscribed(source, topic);
    await publisher.publishAsync(topic, '{"n":1}', {
      qos: 1,
      properties: {
        contentType: "application/json",
        userProperties: {
          specversion: "1.0",
          id: "ce-1",
          source: "/orders",
          type: "order.created",
          subject: "o-1",
          time: "2026-11-30T10:00:00.123456789Z",
          tenant: "acme",
        },
      },
    });
    await publisher.publishAsync(
      topic,
      JSON.stringify({
        specversion: "1.0",
        id: "ce-2",
        source: "/orders",
        type: "order.paid",
        data: { n: 2 },
        priority: 3,
      }),
      { qos: 1, properties: { contentType: "application/cloudevents+json" } },
    );
    const events = await source.events(2);
    await source.end();
    const [binary, structured] = events as [Event, Event];
    expect(binary).toEqual(
      expect.objectContaining({
        id: "ce-1",
        source: "/orders",
        type: "order.created",
        subject: "o-1",
        datacontenttype: "application/json",
        time: expect.objectContaining({ seconds: 1796032800n, nanos: 123456789 }),
      }),
    );
    expect(text(binary)).toBe('{"n":1}');
    expect(ext(binary, "tenant")).toBe("acme");
    expect(ext(binary, "mqtttopic")).toBe(topic);
    expect(structured).toEqual(
      expect.objectContaining({ id: "ce-2", type: "order.paid", datacontenttype: "application/json" }),
    );
    expect(JSON.parse(text(structured))).toEqual({ n: 2 });
    expect(ext(structured, "priority")).toBe(3);
  });

  it("reads MQTT 3.1.1 too, where a structured CloudEvent is recognised by its JSON", async () => {
    const { topic, config } = freshConfig({ protocolVersion: 4 });
    const source = start(served.client, config);
    await subscribed(source, topic);
    await publisher.publishAsync(
      topic,
      JSON.stringify({ specversion: "1.0", id: "v4-1", source: "/s", type: "t" }),
      { qos: 1 },
    );
    await publisher.publishAsync(topic, "plain", { qos: 1 });
    const events = await source.events(2);
    await source.end();
    expect(events.map((event) => event.id)[0]).toBe("v4-1");
    expect(text(events[1] as Event)).toBe("plain");
  });

  it("keeps its messages across a cut connection: nothing is read twice, and a later commit acknowledges them", async () => {
    const proxy = await startTcpProxy({ host: "127.0.0.1", port: 1883 });
    try {
      const { topic, config } = freshConfig({ url: `mqtt://127.0.0.1:${proxy.port}`, keepaliveSeconds: 5 });
      let source = start(served.client, config, { maxBatchSize: 2 });
      await subscribed(source, topic);
      await publishAll(publisher, topic, range(1, 4));
      const before = await source.batchesOf(4);
      proxy.cut();
      proxy.restore();
      // The broker resends m1..m4 to the new connection; the source holds them already.
      await publishAll(publisher, topic, ["m5"]);
      const after = await source.batchesOf(1);
      expect(eventsIn(after).map(text)).toEqual(["m5"]);
      source.commit(after[0] as Batch);
      source.credit(1);
      await publishAll(publisher, topic, ["m6"]);
      await source.batchesOf(1);
      await source.end();
      expect(eventsIn(before).map(text)).toEqual(range(1, 4));

      source = start(served.client, { ...config, url: TEST_MQTT_URL });
      await publishAll(publisher, topic, ["m7"]);
      const rest = await source.batchesOf(2);
      await source.end();
      expect(eventsIn(rest).map(text)).toEqual(["m6", "m7"]);
    } finally {
      await proxy.close();
    }
  });

  describe("a source process killed with SIGKILL", () => {
    const mainJs = join(__dirname, "..", "dist", "main.js");
    const children: ChildProcess[] = [];
    afterAll(() => {
      for (const child of children)
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    });

    async function spawnService(): Promise<{ child: ChildProcess; client: SourceServiceClient }> {
      const child = spawn(process.execPath, [mainJs], {
        stdio: ["ignore", "pipe", "inherit"],
        env: { ...process.env, FLOW_LOG_LEVEL: "warn" },
      });
      children.push(child);
      const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
      const line = await new Promise<string>((resolve, reject) => {
        lines.once("line", resolve);
        child.once("exit", (code) => reject(new Error(`the service exited (${code}) before its handshake`)));
      });
      const client = new SourceServiceClient(parseHandshake(line).address, credentials.createInsecure());
      return { child, client };
    }

    it("gets again exactly what was in flight (read, not committed), and nothing committed", async () => {
      const { topic, config } = freshConfig();
      const first = await spawnService();
      // One event per batch and exactly the credits needed: the credit sent after the commit
      // notice proves, when its batch arrives, that the notice was handled.
      const source = start(first.client, config, { maxBatchSize: 1, credits: 21 });
      await subscribed(source, topic);
      await publishAll(publisher, topic, range(1, 20));
      const read = await source.batchesOf(20);
      source.commit(read[9] as Batch); // through m10
      source.credit(1);
      await publishAll(publisher, topic, ["m21"]);
      await source.batchesOf(1);
      const exited = new Promise((resolve) => first.child.once("exit", resolve));
      first.child.kill("SIGKILL");
      await exited;
      source.stream.cancel();
      first.client.close();

      const second = await spawnService();
      const again = start(second.client, config);
      const redelivered = await again.batchesOf(11);
      // In flight at the kill: m11..m21, read and never committed. Nothing before is read again.
      expect(eventsIn(redelivered).map(text)).toEqual(range(11, 21));
      again.commit(redelivered.at(-1) as Batch);
      again.credit(1);
      await publishAll(publisher, topic, ["m22"]);
      const next = await again.batchesOf(1);
      expect(eventsIn(next).map(text)).toEqual(["m22"]);
      await again.end();
      second.client.close();
      const stopped = new Promise((resolve) => second.child.once("exit", resolve));
      second.child.kill("SIGTERM");
      await stopped;
    });
  });

  describe("validate-only", () => {
    const configure = (config: object) => validateOnly(served.client, config, "mqtt");

    it("accepts a reachable broker and valid topic filters", async () => {
      const { config } = freshConfig({ topics: ["flow-test/+/a", "flow-test/#"] });
      expect(await configure(config)).toEqual(expect.objectContaining({ accepted: true, issues: [] }));
    });

    it("reports an unreachable broker at /url", async () => {
      const proxy = await startTcpProxy({ host: "127.0.0.1", port: 1883 });
      proxy.cut();
      try {
        const { config } = freshConfig({ url: `mqtt://127.0.0.1:${proxy.port}`, connectTimeoutMs: 2000 });
        const answer = await configure(config);
        expect(answer.accepted).toBe(false);
        expect(answer.issues).toEqual([
          expect.objectContaining({
            path: "/url",
            severity: Severity.SEVERITY_ERROR,
            message: expect.stringMatching(/cannot reach the MQTT broker/),
          }),
        ]);
      } finally {
        await proxy.close();
      }
    });

    it("reports a topic filter the broker refuses at its index", async () => {
      const { config } = freshConfig({ topics: ["flow-test/ok", "flow-test/#/bad"] });
      const answer = await configure(config);
      expect(answer.accepted).toBe(false);
      expect(answer.issues).toEqual([expect.objectContaining({ path: "/topics/1" })]);
    });
  });
});
