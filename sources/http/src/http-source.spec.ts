import { createHmac } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { type FlowEvent, serveSource } from "@flow/sdk";
import {
  freePort,
  type SourceReadOptions,
  SourceReadStream,
  serveForTests,
  unary,
  validateOnly,
} from "@flow/testing";
import { Family, Severity } from "./gen/component/v1/component";
import {
  type DescribeResponse,
  type ReadResponse,
  SourceServiceClient,
  SourceServiceService,
} from "./gen/source_service/v1/source";
import { httpSource } from "./http-source";
import { type Exchange, exchange } from "./test-support/http-exchange";
import { selfSignedCertificate } from "./test-support/self-signed-certificate";

const served = serveForTests(
  serveSource,
  httpSource,
  { service: SourceServiceService, packageDir: join(__dirname, "..") },
  SourceServiceClient,
);

it("describes itself over gRPC", async () => {
  const response = await unary<DescribeResponse>((done) => served.client.describe({}, done));
  expect(response.component).toEqual(
    expect.objectContaining({ name: "flow-source-http", family: Family.FAMILY_SOURCE }),
  );
});

/** One Read stream of the served source, with the webhook server it listens with on a port of its own. */
class ReadStream extends SourceReadStream<ReadResponse> {
  private constructor(
    config: object,
    options: SourceReadOptions,
    readonly url: string,
    private readonly ca: Buffer | undefined,
  ) {
    super(served.client, config, options);
  }

  static async open(
    config: object = {},
    options: Omit<SourceReadOptions, "stageId"> & { ca?: Buffer } = {},
  ): Promise<ReadStream> {
    const { ca, ...settings } = options;
    const port = await freePort();
    const url = `${ca ? "https" : "http"}://127.0.0.1:${port}`;
    const read = new ReadStream({ port, ...config }, { ...settings, stageId: "http-test" }, url, ca);
    await read.listening();
    return read;
  }

  /** The stream's server answers (its /healthz): it listens. Connection refused until then. */
  private async listening(): Promise<void> {
    for (;;) {
      try {
        await this.health();
        return;
      } catch {
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  }

  /** Batches until `count` events came, each committed as it comes (so their requests are answered). */
  async eventsCommitted(count: number): Promise<FlowEvent[]> {
    const events: FlowEvent[] = [];
    while (events.length < count) {
      const batch = await this.batch();
      events.push(...batch.events);
      this.commit(batch);
    }
    return events;
  }

  health(): Promise<Exchange> {
    return exchange(`${this.url}/healthz`, { method: "GET", ca: this.ca });
  }

  post(body: unknown, headers: Record<string, string> = {}, path = "/events"): Promise<Exchange> {
    return exchange(`${this.url}${path}`, {
      headers: { "content-type": "application/json", ...headers },
      body: typeof body === "string" || Buffer.isBuffer(body) ? body : JSON.stringify(body),
    });
  }
}

/** Tracks whether a promise has settled yet. */
function watched<T>(promise: Promise<T>): { promise: Promise<T>; settled: () => boolean } {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  return { promise, settled: () => settled };
}

const json = (event: FlowEvent): unknown => JSON.parse(event.data.toString());
const extensions = (event: FlowEvent): Record<string, unknown> =>
  Object.fromEntries(
    Object.entries(event.extensions).map(([name, attribute]) => [name, attribute.value?.value]),
  );

describe("POST of events", () => {
  it("answers 200 only after Core's commit notice covers the request's batch", async () => {
    const read = await ReadStream.open();
    const posted = watched(read.post({ order: 1 }));
    const { sequence, events } = await read.batch();
    expect(events.map(json)).toEqual([{ order: 1 }]);
    // A round trip of its own through the server: had the POST been answered on receipt, it would be by now.
    await read.health();
    expect(posted.settled()).toBe(false);
    read.commit(sequence);
    const answer = await posted.promise;
    expect([answer.status, JSON.parse(answer.text)]).toEqual([200, { accepted: 1 }]);
    await read.end();
  });

  it("a request cut into several batches is answered when the last of them is committed", async () => {
    const read = await ReadStream.open({}, { maxBatchSize: 2 });
    const posted = watched(read.post([1, 2, 3, 4, 5]));
    const batches = [await read.batch(), await read.batch(), await read.batch()];
    expect(batches.map((batch) => batch.events.map(json))).toEqual([[1, 2], [3, 4], [5]]);
    read.commit(2n);
    await read.health();
    expect(posted.settled()).toBe(false);
    read.commit(3n);
    expect((await posted.promise).status).toBe(200);
    await read.end();
  });

  it("reads structured, batched and binary-mode CloudEvents with every attribute", async () => {
    const read = await ReadStream.open();
    const structured = {
      specversion: "1.0",
      id: "o-1",
      source: "/shop",
      type: "com.example.order",
      subject: "s1",
      time: "2026-11-30T10:00:00.123456789Z",
      dataschema: "https://example.com/order.json",
      tenant: "acme",
      priority: 3,
      data: { total: 9.5 },
    };
    const posts = [
      read.post(structured, { "content-type": "application/cloudevents+json; charset=utf-8" }),
      read.post(
        [
          {
            specversion: "1.0",
            id: "b-1",
            source: "/shop",
            type: "t",
            data_base64: Buffer.from([0, 1, 2]).toString("base64"),
          },
          {
            specversion: "1.0",
            id: "b-2",
            source: "/shop",
            type: "t",
            datacontenttype: "text/plain",
            data: "hi",
          },
        ],
        { "content-type": "application/cloudevents-batch+json" },
      ),
      read.post("plain text body", {
        "content-type": "text/plain",
        "ce-specversion": "1.0",
        "ce-id": "bin-1",
        "ce-source": "/shop",
        "ce-type": "com.example.note",
        "ce-time": "2026-11-30T10:00:00Z",
        "ce-note": "caf%C3%A9",
      }),
    ];
    const events = await read.eventsCommitted(4);
    expect((await Promise.all(posts)).map((answer) => answer.status)).toEqual([200, 200, 200]);
    const byId = new Map(events.map((event) => [event.id, event]));
    expect(byId.get("o-1")).toEqual(
      expect.objectContaining({
        source: "/shop",
        type: "com.example.order",
        subject: "s1",
        time: expect.objectContaining({ seconds: 1796032800n, nanos: 123456789 }),
        datacontenttype: "application/json",
        dataschema: "https://example.com/order.json",
      }),
    );
    expect(extensions(byId.get("o-1") as FlowEvent)).toEqual({ tenant: "acme", priority: 3 });
    expect(json(byId.get("o-1") as FlowEvent)).toEqual({ total: 9.5 });
    expect(byId.get("b-1")?.data).toEqual(Buffer.from([0, 1, 2]));
    expect([byId.get("b-2")?.datacontenttype, byId.get("b-2")?.data.toString()]).toEqual([
      "text/plain",
      "hi",
    ]);
    expect(byId.get("bin-1")).toEqual(
      expect.objectContaining({
        type: "com.example.note",
        datacontenttype: "text/plain",
        time: expect.objectContaining({ seconds: 1796032800n, nanos: 0 }),
        data: Buffer.from("plain text body"),
      }),
    );
    expect(extensions(byId.get("bin-1") as FlowEvent)).toEqual({ note: "café" });
    await read.end();
  });

  it("keeps the JSON data of structured and batched CloudEvents as written: no digit of a big integer lost", async () => {
    const read = await ReadStream.open();
    const head = '"specversion":"1.0","source":"/shop","type":"t"';
    const posts = [
      read.post(`{${head},"id":"s","data":{"n": 12345678901234567890}}`, {
        "content-type": "application/cloudevents+json",
      }),
      read.post(`[{${head},"id":"b","data":[98765432109876543210, 1.50]}]`, {
        "content-type": "application/cloudevents-batch+json",
      }),
    ];
    const events = await read.eventsCommitted(2);
    expect((await Promise.all(posts)).map((answer) => answer.status)).toEqual([200, 200]);
    const data = Object.fromEntries(events.map((event) => [event.id, event.data.toString()]));
    expect(data).toEqual({ s: '{"n": 12345678901234567890}', b: "[98765432109876543210, 1.50]" });
    await read.end();
  });

  it("gives plain JSON events ids that a retry of the same body repeats: a hash, Idempotency-Key, or idPointer", async () => {
    const read = await ReadStream.open();
    const ids = async (
      body: unknown,
      headers: Record<string, string> = {},
      stream = read,
    ): Promise<string[]> => {
      const posted = stream.post(body, headers);
      const batch = await stream.batch();
      stream.commit(batch.sequence);
      expect((await posted).status).toBe(200);
      return batch.events.map((event) => event.id);
    };
    const first = await ids([{ a: 1 }, { a: 2 }]);
    expect(first).toEqual([expect.stringMatching(/^[0-9a-f]{32}-0$/), expect.stringMatching(/-1$/)]);
    expect(await ids([{ a: 1 }, { a: 2 }])).toEqual(first);
    expect(await ids([{ a: 1 }, { a: 3 }])).not.toEqual(first);
    expect(await ids({ a: 1 }, { "idempotency-key": "delivery-7" })).toEqual(["delivery-7"]);
    await read.end();
    const pointed = await ReadStream.open({ idPointer: "/order/id", source: "/shop", type: "order" });
    expect(await ids([{ order: { id: "x1" } }, { order: { id: 2 } }], {}, pointed)).toEqual(["x1", "2"]);
    const refused = await pointed.post([{ order: { id: "x1" } }, { order: {} }]);
    expect([refused.status, JSON.parse(refused.text).error]).toEqual([
      400,
      "event 1 has no id at /order/id (a non-empty string or a number)",
    ]);
    const posted = pointed.post({ order: { id: "x3" } });
    const batch = await pointed.batch();
    const event = batch.events[0] as FlowEvent;
    expect([event.source, event.type, event.datacontenttype]).toEqual(["/shop", "order", "application/json"]);
    pointed.commit(batch.sequence);
    expect((await posted).status).toBe(200);
    await pointed.end();
  });
});

describe("requests refused, with the reason", () => {
  it("400 for a bad body, 415 for a content type it does not read, 404 and 405 elsewhere; nothing is taken", async () => {
    const read = await ReadStream.open();
    const reason = async (answer: Promise<Exchange>): Promise<[number, string]> => {
      const { status, text } = await answer;
      return [status, JSON.parse(text).error];
    };
    expect(await reason(read.post("{not json"))).toEqual([
      400,
      expect.stringContaining("the body is not JSON"),
    ]);
    expect(
      await reason(
        read.post(
          { specversion: "1.0", source: "/s", type: "t" },
          { "content-type": "application/cloudevents+json" },
        ),
      ),
    ).toEqual([400, "the event has no id"]);
    expect(
      await reason(
        read.post([{ specversion: "1.0", id: "1", source: "/s", type: "t" }, { specversion: "0.3" }], {
          "content-type": "application/cloudevents-batch+json",
        }),
      ),
    ).toEqual([400, 'event 1: specversion must be "1.0" (found "0.3")']);
    expect(await reason(read.post({}, { "content-type": "application/cloudevents-batch+json" }))).toEqual([
      400,
      "a application/cloudevents-batch+json body must be a JSON array",
    ]);
    expect(
      await reason(
        read.post("x", {
          "content-type": "text/plain",
          "ce-specversion": "1.0",
          "ce-id": "1",
          "ce-source": "/s",
        }),
      ),
    ).toEqual([400, "the binary-mode event has no ce-type header"]);
    expect(await reason(read.post("x", { "content-type": "text/plain" }))).toEqual([
      415,
      expect.stringContaining('unsupported Content-Type "text/plain"'),
    ]);
    expect((await read.post({}, {}, "/other")).status).toBe(404);
    const get = await exchange(`${read.url}/events`, { method: "GET" });
    expect([get.status, get.headers.allow]).toEqual([405, "POST"]);
    expect(JSON.parse((await read.health()).text)).toEqual(expect.objectContaining({ pendingEvents: 0 }));
    await read.end();
  });

  it("413 over maxBodyBytes, declared or streamed", async () => {
    const read = await ReadStream.open({ maxBodyBytes: 100 });
    expect((await read.post({ big: "x".repeat(200) })).status).toBe(413);
    const chunked = await exchange(`${read.url}/events`, {
      headers: { "content-type": "application/json", "transfer-encoding": "chunked" },
      body: JSON.stringify({ big: "x".repeat(200) }),
    });
    expect(chunked.status).toBe(413);
    const small = read.post({ small: 1 });
    read.commit((await read.batch()).sequence);
    expect((await small).status).toBe(200);
    await read.end();
  });

  it("429 with Retry-After when the window of uncommitted events is full; admitted again once committed", async () => {
    // One credit: once the first batch is out the SDK pulls no more, as when every batch of the stage is in flight.
    const read = await ReadStream.open({ maxPendingEvents: 3, retryAfterSeconds: 7 }, { credits: 1 });
    const pendingEvents = async (): Promise<number> => JSON.parse((await read.health()).text).pendingEvents;
    const first = watched(read.post([1]));
    const emitted = await read.batch();
    const second = watched(read.post([2]));
    while ((await pendingEvents()) < 2) await new Promise((resolve) => setImmediate(resolve));
    // The window holds 2 of 3: one more event fits, two do not.
    const refused = await read.post([3, 4]);
    expect([refused.status, refused.headers["retry-after"]]).toEqual([429, "7"]);
    expect(JSON.parse(refused.text).error).toContain("maxPendingEvents");
    const third = watched(read.post([3]));
    while ((await pendingEvents()) < 3) await new Promise((resolve) => setImmediate(resolve));
    expect((await read.post([4])).status).toBe(429);
    read.credit(1);
    const next = await read.batch();
    expect([emitted, next].map((batch) => batch.events.map(json))).toEqual([[1], [2, 3]]);
    read.commit(next.sequence);
    expect(
      await Promise.all(
        [first.promise, second.promise, third.promise].map(async (answer) => (await answer).status),
      ),
    ).toEqual([200, 200, 200]);
    expect(await pendingEvents()).toBe(0);
    const fourth = read.post([4]);
    read.credit(1);
    read.commit((await read.batch()).sequence);
    expect((await fourth).status).toBe(200);
    await read.end();
  });

  it("429 when the bodies held pass maxPendingBytes", async () => {
    const read = await ReadStream.open({ maxPendingBytes: 50 }, { credits: 1 });
    const first = watched(read.post({ pad: "x".repeat(30) }));
    await read.batch();
    const refused = await read.post({ pad: "y".repeat(30) });
    expect([refused.status, refused.headers["retry-after"], JSON.parse(refused.text).error]).toEqual([
      429,
      "1",
      expect.stringContaining("maxPendingBytes"),
    ]);
    await read.end();
    expect((await first.promise).status).toBe(503);
  });

  it("a stream that ends answers its uncommitted requests 503 with Retry-After, and stops listening", async () => {
    const read = await ReadStream.open({}, { credits: 1 });
    const emitted = read.post([1]);
    await read.batch();
    const queued = read.post([2]);
    while (JSON.parse((await read.health()).text).pendingEvents < 2)
      await new Promise((resolve) => setImmediate(resolve));
    await read.end();
    for (const answer of await Promise.all([emitted, queued])) {
      expect([answer.status, answer.headers["retry-after"]]).toEqual([503, "1"]);
    }
    await expect(read.health()).rejects.toThrow(/ECONNREFUSED/);
  });

  it("503 when Core does not commit within responseTimeoutMs", async () => {
    const read = await ReadStream.open({ responseTimeoutMs: 50 });
    const answer = read.post([1]);
    await read.batch();
    const { status, headers, text } = await answer;
    expect([status, headers["retry-after"], JSON.parse(text).error]).toEqual([
      503,
      "1",
      expect.stringContaining("not committed within 50 ms"),
    ]);
    await read.end();
  });
});

describe("authentication", () => {
  it("a bearer token: 401 without it or with another, accepted with it; /healthz stays open", async () => {
    const read = await ReadStream.open({ bearerToken: "s3cret" });
    const missing = await read.post([1]);
    expect([missing.status, missing.headers["www-authenticate"]]).toEqual([
      401,
      'Bearer realm="flow-source-http"',
    ]);
    expect((await read.post([1], { authorization: "Bearer s3cre" })).status).toBe(401);
    expect((await read.health()).status).toBe(200);
    const posted = read.post([1], { authorization: "Bearer s3cret" });
    read.commit((await read.batch()).sequence);
    expect((await posted).status).toBe(200);
    await read.end();
  });

  it("an HMAC signature of the raw body, X-Hub-Signature-256 style", async () => {
    const read = await ReadStream.open({ signature: { secret: "hush" } });
    const body = JSON.stringify({ action: "opened" });
    const sign = (text: string, secret = "hush"): string =>
      `sha256=${createHmac("sha256", secret).update(text).digest("hex")}`;
    expect((await read.post(body)).status).toBe(401);
    const wrong = await read.post(body, { "x-hub-signature-256": sign(body, "other") });
    expect([wrong.status, JSON.parse(wrong.text).error]).toEqual([
      401,
      "the x-hub-signature-256 signature does not match the body",
    ]);
    expect((await read.post(`${body} `, { "x-hub-signature-256": sign(body) })).status).toBe(401);
    const posted = read.post(body, { "x-hub-signature-256": sign(body) });
    read.commit((await read.batch()).sequence);
    expect((await posted).status).toBe(200);
    await read.end();
  });
});

describe("TLS and validate-only", () => {
  const tls = selfSignedCertificate();
  afterAll(() => rmSync(tls.dir, { recursive: true, force: true }));

  const issues = async (config: object): Promise<[string, Severity, string][]> =>
    (await validateOnly(served.client, config, "s")).issues.map((issue) => [
      issue.path,
      issue.severity,
      issue.message,
    ]);

  it("serves HTTPS with the certificate and key files", async () => {
    const read = await ReadStream.open(
      { tls: { certFile: tls.certFile, keyFile: tls.keyFile } },
      { ca: tls.cert },
    );
    const posted = exchange(`${read.url}/events`, {
      headers: { "content-type": "application/json" },
      body: "[1]",
      ca: tls.cert,
    });
    read.commit((await read.batch()).sequence);
    expect((await posted).status).toBe(200);
    await read.end();
  });

  it("reports a port in use, a host that is not this machine's, and TLS files missing, unparsable or mismatched, each at its key", async () => {
    const holder = createServer();
    const port = await new Promise<number>((resolve) =>
      holder.listen({ host: "127.0.0.1", port: 0 }, () =>
        resolve((holder.address() as { port: number }).port),
      ),
    );
    try {
      expect(await issues({ port })).toEqual([
        ["/port", Severity.SEVERITY_ERROR, expect.stringContaining(`port ${port} on 127.0.0.1 is in use`)],
      ]);
    } finally {
      holder.close();
    }
    expect(await issues({ port: 0 })).toEqual([]);
    expect(await issues({ host: "192.0.2.1", port: 0 })).toEqual([
      [
        "/host",
        Severity.SEVERITY_ERROR,
        expect.stringContaining("192.0.2.1 is not an address of this machine"),
      ],
    ]);
    const missing = join(tls.dir, "missing.pem");
    expect(await issues({ port: 0, tls: { certFile: missing, keyFile: tls.keyFile } })).toEqual([
      ["/tls/certFile", Severity.SEVERITY_ERROR, `cannot read ${missing}: ENOENT`],
    ]);
    const garbage = join(tls.dir, "garbage.pem");
    writeFileSync(garbage, "not a key");
    expect(await issues({ port: 0, tls: { certFile: tls.certFile, keyFile: garbage } })).toEqual([
      ["/tls/keyFile", Severity.SEVERITY_ERROR, expect.stringContaining("is not a PEM private key")],
    ]);
    const other = selfSignedCertificate();
    try {
      expect(await issues({ port: 0, tls: { certFile: tls.certFile, keyFile: other.keyFile } })).toEqual([
        [
          "/tls/keyFile",
          Severity.SEVERITY_ERROR,
          expect.stringContaining(`does not go with ${tls.certFile}`),
        ],
      ]);
    } finally {
      rmSync(other.dir, { recursive: true, force: true });
    }
  });
});
