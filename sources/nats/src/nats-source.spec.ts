import { join } from "node:path";
import { type FlowEvent, serveSource } from "@flow/sdk";
import {
  eventsIn,
  type ReadBatch,
  type SourceReadClient,
  type SourceReadOptions,
  SourceReadStream,
  serveForTests,
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
import { headers as natsHeaders } from "nats";
import { Family } from "./gen/component/v1/component";
import {
  type DescribeResponse,
  type ReadResponse,
  SourceServiceClient,
  SourceServiceService,
} from "./gen/source_service/v1/source";
import { parseCheckpoint } from "./nats-checkpoint";
import { natsSource } from "./nats-source";

const served = serveForTests(
  serveSource,
  natsSource,
  { service: SourceServiceService, packageDir: join(__dirname, "..") },
  SourceServiceClient,
);
const MAIN_JS = join(__dirname, "..", "dist", "main.js");

it("describes itself over gRPC", async () => {
  const response = await unary<DescribeResponse>((done) => served.client.describe({}, done));
  expect(response.component).toEqual(
    expect.objectContaining({ name: "flow-source-nats", family: Family.FAMILY_SOURCE }),
  );
});

type Batch = ReadBatch<ReadResponse>;

/** One Read stream driven by the test (on the in-process service unless another client is given), in batches of 2. */
const openRead = (
  config: object,
  options: SourceReadOptions = {},
  client: SourceReadClient<ReadResponse> = served.client,
) => new SourceReadStream(client, config, { maxBatchSize: 2, ...options });

const attribute = (event: FlowEvent, name: string) => event.extensions[name]?.value?.value;

withMachineRequirement("NATS JetStream", natsForTests(), NATS_HOW_TO_FIX, () => {
  let stream: TestStream;
  beforeEach(async () => {
    stream = await createTestStream("src");
  });
  afterEach(async () => {
    await stream.remove();
  });

  const config = (extra: object = {}) => ({
    servers: [TEST_NATS_URL],
    stream: stream.name,
    consumer: "reader",
    ackWaitMs: 1000,
    ...extra,
  });
  const publish = async (count: number, subject = `${stream.prefix}.orders`) => {
    const js = stream.nc.jetstream();
    for (let index = 1; index <= count; index++) await js.publish(subject, Buffer.from(`message ${index}`));
  };
  /** Waits (on the server's own answers) until the consumer has nothing unacknowledged. */
  const settled = async (name = "reader") => {
    for (;;) {
      const info = await stream.jsm.consumers.info(stream.name, name);
      if (info.num_ack_pending === 0) return info;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  it("turns each message into an event with its subject, stream sequence and delivery count", async () => {
    await publish(3);
    const read = openRead(config());
    const events = await read.events(3);
    await read.end();
    expect(events.map((event) => event.data.toString())).toEqual(["message 1", "message 2", "message 3"]);
    expect(events[0]).toEqual(
      expect.objectContaining({
        id: `${stream.name}-1`,
        source: `nats://${stream.name}`,
        type: "nats.message",
        subject: `${stream.prefix}.orders`,
      }),
    );
    expect(events.map((event) => attribute(event, "natssequence"))).toEqual(["1", "2", "3"]);
    expect(attribute(events[0] as FlowEvent, "natssubject")).toBe(`${stream.prefix}.orders`);
    expect(attribute(events[0] as FlowEvent, "natsstream")).toBe(stream.name);
    expect(attribute(events[0] as FlowEvent, "natsdeliverycount")).toBe(1);
    expect(attribute(events[0] as FlowEvent, "natsredelivered")).toBe(false);
  });

  it("creates a durable pull consumer with explicit acks and max_ack_pending of the credits × the batch size", async () => {
    await publish(1);
    const read = openRead(config({ filterSubject: `${stream.prefix}.orders` }), {
      maxBatchSize: 25,
      credits: 8,
    });
    await read.batch();
    const info = await stream.jsm.consumers.info(stream.name, "reader");
    await read.end();
    expect(info.config).toEqual(
      expect.objectContaining({
        durable_name: "reader",
        ack_policy: "explicit",
        max_ack_pending: 200,
        filter_subject: `${stream.prefix}.orders`,
      }),
    );
    expect(info.config.deliver_subject).toBeUndefined();
  });

  it("acknowledges nothing before the commit notice: an ended stream's batches are redelivered", async () => {
    await publish(4);
    const first = openRead(config());
    const events = await first.events(4);
    expect((await stream.jsm.consumers.info(stream.name, "reader")).num_ack_pending).toBe(4);
    await first.end();

    const second = openRead(config());
    const again = await second.batchesOf(4);
    expect(
      eventsIn(again)
        .map((event) => event.id)
        .sort(),
    ).toEqual(events.map((event) => event.id).sort());
    expect(eventsIn(again).every((event) => attribute(event, "natsredelivered") === true)).toBe(true);
    expect(eventsIn(again).map((event) => attribute(event, "natsdeliverycount"))).toEqual([2, 2, 2, 2]);

    // Committing the first batch acknowledges exactly its two messages.
    second.commit(again[0] as Batch);
    for (;;) {
      const info = await stream.jsm.consumers.info(stream.name, "reader");
      if (info.num_ack_pending === 2) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await second.end();

    const third = openRead(config());
    const rest = await third.batchesOf(2);
    third.commit(rest[rest.length - 1] as Batch);
    await settled();
    await third.end();
    expect(eventsIn(rest).map((event) => event.id)).toEqual(
      again.slice(1).flatMap((batch) => batch.events.map((event) => event.id)),
    );
  });

  it("after a SIGKILL of the service, the broker redelivers only what was not committed", async () => {
    await publish(6);
    const service = await spawnService(MAIN_JS);
    const client = new SourceServiceClient(service.address, credentials.createInsecure());
    try {
      const read = openRead(config(), { maxBatchSize: 2, credits: 3 }, client);
      const batches = await read.batchesOf(6);
      read.commit(batches[0] as Batch);
      for (;;) {
        const info = await stream.jsm.consumers.info(stream.name, "reader");
        if (info.num_ack_pending === 4) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await service.kill("SIGKILL");
      await read.status;

      // No nak could be sent: the two uncommitted batches come back once ack_wait (1 s) has passed.
      const next = openRead(config());
      const redelivered = await next.batchesOf(4);
      expect(
        eventsIn(redelivered)
          .map((event) => event.id)
          .sort(),
      ).toEqual(
        batches
          .slice(1)
          .flatMap((batch) => batch.events.map((event) => event.id))
          .sort(),
      );
      next.commit(redelivered[redelivered.length - 1] as Batch);
      const info = await settled();
      await next.end();
      expect(info.num_pending).toBe(0);
    } finally {
      client.close();
      await service.kill("SIGKILL");
    }
  });

  it("records the stream sequence so a new consumer resumes from the checkpoint", async () => {
    await publish(6);
    const read = openRead(config(), { maxBatchSize: 2, credits: 1 });
    const first = await read.batch();
    read.commit(first);
    await settled();
    // The ack floor is read at the start of a stream and after each commit's acks; the next
    // batch's checkpoint carries it.
    await read.end();
    const reopened = openRead(config(), { maxBatchSize: 2, credits: 1 });
    const second = await reopened.batch();
    await reopened.end();
    expect(parseCheckpoint(second.position)).toEqual(
      expect.objectContaining({ stream: stream.name, consumer: "reader", resumeSequence: 3 }),
    );

    const fresh = openRead(config({ consumer: "another" }), {
      checkpoint: second.position,
      maxBatchSize: 10,
    });
    const resumed = await fresh.batchesOf(4);
    await fresh.end();
    expect(eventsIn(resumed).map((event) => attribute(event, "natssequence"))).toEqual(["3", "4", "5", "6"]);
    const created = await stream.jsm.consumers.info(stream.name, "another");
    expect(created.config.opt_start_seq).toBe(3);
  });

  it("recognises CloudEvents in binary mode (ce-* headers) and structured mode", async () => {
    const js = stream.nc.jetstream();
    const binary = natsHeaders();
    binary.set("ce-specversion", "1.0");
    binary.set("ce-id", "order-1");
    binary.set("ce-source", "/shop");
    binary.set("ce-type", "order.created");
    binary.set("ce-time", "2026-11-01T10:00:00.123456789Z");
    binary.set("ce-tenant", "acme");
    binary.set("content-type", "application/json");
    await js.publish(`${stream.prefix}.ce`, Buffer.from('{"amount":5}'), { headers: binary });
    const structured = natsHeaders();
    structured.set("content-type", "application/cloudevents+json");
    await js.publish(
      `${stream.prefix}.ce`,
      Buffer.from(
        JSON.stringify({
          specversion: "1.0",
          id: "order-2",
          source: "/shop",
          type: "order.paid",
          subject: "orders/2",
          datacontenttype: "application/json",
          data: { amount: 7 },
          priority: 3,
        }),
      ),
      { headers: structured },
    );
    const read = openRead(config());
    const events = await read.events(2);
    await read.end();
    const [first, second] = events as [FlowEvent, FlowEvent];
    expect(first).toEqual(
      expect.objectContaining({
        id: "order-1",
        source: "/shop",
        type: "order.created",
        datacontenttype: "application/json",
        time: expect.objectContaining({
          seconds: BigInt(Date.parse("2026-11-01T10:00:00Z") / 1000),
          nanos: 123456789,
        }),
      }),
    );
    expect(first.data.toString()).toBe('{"amount":5}');
    expect(attribute(first, "tenant")).toBe("acme");
    expect(attribute(first, "natssequence")).toBe("1");
    expect(second).toEqual(
      expect.objectContaining({ id: "order-2", type: "order.paid", subject: "orders/2" }),
    );
    expect(JSON.parse(second.data.toString())).toEqual({ amount: 7 });
    expect(attribute(second, "priority")).toBe(3);
    expect(attribute(second, "natssubject")).toBe(`${stream.prefix}.ce`);
  });

  it("cuts batches to maxBatchBytes", async () => {
    const js = stream.nc.jetstream();
    for (let index = 0; index < 4; index++) await js.publish(`${stream.prefix}.big`, Buffer.alloc(400, 97));
    const read = openRead(config(), { maxBatchSize: 10, maxBatchBytes: 1000 });
    const batches = await read.batchesOf(4);
    await read.end();
    expect(batches.every((batch) => batch.events.length <= 2)).toBe(true);
  });

  describe("validate-only reaches the server", () => {
    const validate = (extra: object) => validateOnly(served.client, config(extra));

    it("accepts a stream that exists", async () => {
      expect(await validate({})).toEqual(expect.objectContaining({ accepted: true, issues: [] }));
    });

    it("reports an unreachable server at /servers", async () => {
      const response = await validate({ servers: ["nats://127.0.0.1:1"] });
      expect(response.accepted).toBe(false);
      expect(response.issues).toEqual([expect.objectContaining({ path: "/servers" })]);
    });

    it("reports a missing stream at /stream", async () => {
      const response = await validate({ stream: `${stream.name}_missing` });
      expect(response.issues).toEqual([
        expect.objectContaining({ path: "/stream", message: expect.stringContaining("does not exist") }),
      ]);
    });

    it("reports a filter subject the stream does not cover at /filterSubject", async () => {
      const response = await validate({ filterSubject: "elsewhere.>" });
      expect(response.issues).toEqual([expect.objectContaining({ path: "/filterSubject" })]);
    });

    it("reports a missing consumer that will not be created at /consumer", async () => {
      const response = await validate({ createConsumer: false });
      expect(response.issues).toEqual([expect.objectContaining({ path: "/consumer" })]);
    });
  });
});
