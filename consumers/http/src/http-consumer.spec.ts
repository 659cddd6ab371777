import { createServer } from "node:net";
import { join } from "node:path";
import { createEvent, type FlowEvent, serveConsumer } from "@flow/sdk";
import { ConsumerWriteStream, serveForTests, unary, validateOnly } from "@flow/testing";
import { Family, Severity } from "./gen/component/v1/component";
import {
  AckStatus,
  ConsumerServiceClient,
  ConsumerServiceService,
  type DescribeResponse,
} from "./gen/consumer_service/v1/consumer";
import { httpConsumer } from "./http-consumer";
import { ReceivingServer } from "./test-support/receiving-server";

const served = serveForTests(
  serveConsumer,
  httpConsumer,
  { service: ConsumerServiceService, packageDir: join(__dirname, "..") },
  ConsumerServiceClient,
);

let server: ReceivingServer;
beforeEach(async () => {
  server = await ReceivingServer.start();
});
afterEach(() => server.close());

it("describes itself over gRPC", async () => {
  const response = await unary<DescribeResponse>((done) => served.client.describe({}, done));
  expect(response.component).toEqual(
    expect.objectContaining({ name: "flow-consumer-http", family: Family.FAMILY_CONSUMER }),
  );
});

/** One Write stream of the served consumer. */
const writeStream = (config: object) =>
  new ConsumerWriteStream(served.client, config, { stageId: "http-test" });

/** An ack's verdict, without the sequence it names. */
const verdict = ({ status, reason }: { status: AckStatus; reason: string }) => ({ status, reason });

const event = (id: string, data: unknown = { n: id }): FlowEvent =>
  createEvent({ id, source: "/test", type: "com.example.t", data });

describe("formats", () => {
  it("batch (default): one POST per batch of CloudEvents JSON, over one kept-alive connection", async () => {
    const write = writeStream({ url: `${server.url}/hook?x=1` });
    write.send([event("1"), event("2")]);
    expect(verdict(await write.ack())).toEqual({ status: AckStatus.ACK_STATUS_WRITTEN, reason: "" });
    write.send([event("3")]);
    expect((await write.ack()).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
    const [first, second] = await server.requests(2);
    expect([first?.method, first?.path, first?.headers["content-type"]]).toEqual([
      "POST",
      "/hook?x=1",
      "application/cloudevents-batch+json",
    ]);
    expect(JSON.parse(first?.body ?? "")).toEqual([
      {
        specversion: "1.0",
        id: "1",
        source: "/test",
        type: "com.example.t",
        datacontenttype: "application/json",
        data: { n: "1" },
      },
      {
        specversion: "1.0",
        id: "2",
        source: "/test",
        type: "com.example.t",
        datacontenttype: "application/json",
        data: { n: "2" },
      },
    ]);
    expect(JSON.parse(second?.body ?? "").map((e: { id: string }) => e.id)).toEqual(["3"]);
    expect(server.connections).toBe(1);
    await write.end();
  });

  it("event and binary: one request per event, structured or with ce-* headers (percent-encoded)", async () => {
    const structured = writeStream({ url: server.url, format: "event", method: "PUT" });
    structured.send([event("1"), event("2")]);
    expect((await structured.ack()).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
    const requests = await server.requests(2);
    expect(
      requests
        .map((request) => [request.method, request.headers["content-type"], JSON.parse(request.body).id])
        .sort(),
    ).toEqual([
      ["PUT", "application/cloudevents+json", "1"],
      ["PUT", "application/cloudevents+json", "2"],
    ]);
    await structured.end();

    const binary = writeStream({ url: server.url, format: "binary" });
    const note = createEvent({
      id: "b 1",
      source: "/shop",
      type: "t",
      subject: "café",
      time: new Date("2026-11-30T10:00:00Z"),
      datacontenttype: "text/plain",
      extensions: {
        tenant: { value: { $case: "stringValue", value: '50% "off"' } },
        n: { value: { $case: "integerValue", value: 3 } },
      },
      data: "hello",
    });
    binary.send([note]);
    expect((await binary.ack()).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
    const [, , request] = await server.requests(3);
    expect(request?.body).toBe("hello");
    expect(request?.headers).toEqual(
      expect.objectContaining({
        "content-type": "text/plain",
        "ce-specversion": "1.0",
        "ce-id": "b%201",
        "ce-source": "/shop",
        "ce-type": "t",
        "ce-subject": "caf%C3%A9",
        "ce-time": "2026-11-30T10:00:00.000000000Z",
        "ce-tenant": "50%25%20%22off%22",
        "ce-n": "3",
      }),
    );
    await binary.end();
  });

  it("template: one request per event, its body built from the event", async () => {
    const write = writeStream({
      url: server.url,
      format: "template",
      template: {
        text: "order {{ data.order.id }} from {{source}}",
        id: "{{id}}",
        total: "{{data.order.total}}",
        missing: "{{data.nope}}",
        tags: ["{{type}}"],
      },
    });
    write.send([event("e1", { order: { id: "o-7", total: 12.5 } })]);
    expect((await write.ack()).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
    const [request] = await server.requests(1);
    expect(request?.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(request?.body ?? "")).toEqual({
      text: "order o-7 from /test",
      id: "e1",
      total: 12.5,
      missing: null,
      tags: ["com.example.t"],
    });
    await write.end();
  });

  it("adds the configured headers and credentials", async () => {
    const bearer = writeStream({ url: server.url, bearerToken: "t0k", headers: { "X-Tenant": "acme" } });
    bearer.send([event("1")]);
    await bearer.ack();
    const basic = writeStream({ url: server.url, basicAuth: { username: "u", password: "p:w" } });
    basic.send([event("2")]);
    await basic.ack();
    const [first, second] = await server.requests(2);
    expect([first?.headers.authorization, first?.headers["x-tenant"]]).toEqual(["Bearer t0k", "acme"]);
    expect(second?.headers.authorization).toBe(`Basic ${Buffer.from("u:p:w").toString("base64")}`);
    await Promise.all([bearer.end(), basic.end()]);
  });
});

describe("answers", () => {
  it("WRITTEN only once the server has answered 2xx", async () => {
    let answer: () => void = () => undefined;
    server.respond = (_, response) => {
      answer = () => response.writeHead(204).end();
    };
    const write = writeStream({ url: server.url });
    write.send([event("1")]);
    await server.requests(1);
    // A gRPC round trip of its own: an ack sent on receipt would have arrived by now.
    await unary<DescribeResponse>((done) => served.client.describe({}, done));
    expect(write.pending).toBe(0);
    answer();
    expect((await write.ack()).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
    await write.end();
  });

  it("4xx is permanent (a dead letter) with the status and the start of the body", async () => {
    server.respond = (_, response) => {
      response.writeHead(422, { "content-type": "text/plain" }).end(`bad order:\n${"x".repeat(100)}`);
    };
    const write = writeStream({ url: server.url, reasonBytes: 20 });
    write.send([event("1")]);
    expect(verdict(await write.ack())).toEqual({
      status: AckStatus.ACK_STATUS_PERMANENT_FAILURE,
      reason: `POST ${server.url} answered 422 Unprocessable Entity: bad order: xxxxxxxxx`,
    });
    await write.end();
  });

  it("429 and 5xx are retryable, after waiting the Retry-After (cut to maxRetryAfterMs)", async () => {
    const statuses = [429, 503, 500];
    server.respond = (_, response) => {
      const status = statuses.shift() ?? 200;
      response.writeHead(status, status === 503 ? { "retry-after": "120" } : {}).end("busy");
    };
    const write = writeStream({ url: server.url, maxRetryAfterMs: 30 });
    const acks = [];
    for (let attempt = 0; attempt < 4; attempt += 1) {
      write.send([event("1")]);
      acks.push(verdict(await write.ack()));
    }
    expect(acks).toEqual([
      {
        status: AckStatus.ACK_STATUS_RETRYABLE_FAILURE,
        reason: `POST ${server.url} answered 429 Too Many Requests: busy`,
      },
      {
        status: AckStatus.ACK_STATUS_RETRYABLE_FAILURE,
        reason: `POST ${server.url} answered 503 Service Unavailable: busy (waited 30 ms as Retry-After asked)`,
      },
      {
        status: AckStatus.ACK_STATUS_RETRYABLE_FAILURE,
        reason: `POST ${server.url} answered 500 Internal Server Error: busy`,
      },
      { status: AckStatus.ACK_STATUS_WRITTEN, reason: "" },
    ]);
    await write.end();
  });

  it("per event: one refusal among successes dead-letters the batch, a retryable one retries it", async () => {
    server.respond = (request, response) => {
      const id = JSON.parse(request.body).id;
      response.writeHead(id === "2" ? 400 : id === "3" ? 503 : 200).end(`no ${id}`);
    };
    const write = writeStream({ url: server.url, format: "event" });
    write.send([event("1"), event("2")]);
    expect(verdict(await write.ack())).toEqual({
      status: AckStatus.ACK_STATUS_PERMANENT_FAILURE,
      reason: `1 of 2 requests refused; POST ${server.url} answered 400 Bad Request: no 2 (event 2)`,
    });
    write.send([event("2"), event("3")]);
    expect(verdict(await write.ack())).toEqual({
      status: AckStatus.ACK_STATUS_RETRYABLE_FAILURE,
      reason: `2 of 2 requests refused; POST ${server.url} answered 503 Service Unavailable: no 3 (event 3)`,
    });
    await write.end();
  });

  it("a request with no answer within requestTimeoutMs, or a refused connection, is retryable", async () => {
    server.respond = () => undefined;
    const slow = writeStream({ url: server.url, requestTimeoutMs: 50 });
    slow.send([event("1")]);
    expect(verdict(await slow.ack())).toEqual({
      status: AckStatus.ACK_STATUS_RETRYABLE_FAILURE,
      reason: `POST ${server.url} failed: no answer within requestTimeoutMs (50 ms)`,
    });
    await slow.end();
    const port = await closedPort();
    const refused = writeStream({ url: `http://127.0.0.1:${port}/` });
    refused.send([event("1")]);
    expect(verdict(await refused.ack())).toEqual({
      status: AckStatus.ACK_STATUS_RETRYABLE_FAILURE,
      reason: expect.stringMatching(new RegExp(`^POST http://127.0.0.1:${port}/ failed: ECONNREFUSED`)),
    });
    await refused.end();
  });
});

describe("validate-only", () => {
  const issues = async (config: object): Promise<[string, Severity, string][]> =>
    (await validateOnly(served.client, config, "s")).issues.map((issue) => [
      issue.path,
      issue.severity,
      issue.message,
    ]);

  it("reaches the URL's host and says at /url when it cannot; a template format needs its template", async () => {
    expect(await issues({ url: `${server.url}/hook` })).toEqual([]);
    const port = await closedPort();
    expect(await issues({ url: `http://127.0.0.1:${port}/hook` })).toEqual([
      [
        "/url",
        Severity.SEVERITY_ERROR,
        expect.stringMatching(new RegExp(`^cannot reach 127.0.0.1:${port}: ECONNREFUSED`)),
      ],
    ]);
    expect(await issues({ url: "http://no-such-host.invalid/hook" })).toEqual([
      [
        "/url",
        Severity.SEVERITY_ERROR,
        expect.stringContaining("cannot reach no-such-host.invalid: cannot resolve no-such-host.invalid"),
      ],
    ]);
    expect(await issues({ url: "ftp://x" })).toEqual([
      ["/url", Severity.SEVERITY_ERROR, expect.stringContaining("pattern")],
    ]);
    expect(await issues({ url: server.url, format: "template" })).toEqual([
      [
        "/template",
        Severity.SEVERITY_ERROR,
        'format "template" needs a template: the JSON body to make of each event',
      ],
    ]);
    expect(await issues({ url: server.url, caFile: "/nonexistent/ca.pem" })).toEqual([
      ["/caFile", Severity.SEVERITY_ERROR, "cannot read /nonexistent/ca.pem: ENOENT"],
    ]);
  });
});

/** A loopback port nothing listens on (handed out by the system, then let go). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.listen({ host: "127.0.0.1", port: 0 }, () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
