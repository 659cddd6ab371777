import { join } from "node:path";
import { createEvent, type FlowEvent, serveProcessor, timestampFromRfc3339 } from "@flow/sdk";
import { StreamReader, serveForTests, unary } from "@flow/testing";
import { status } from "@grpc/grpc-js";
import { Family, Severity } from "./gen/component/v1/component";
import {
  type ConfigureRequest,
  type ConfigureResponse,
  type DescribeResponse,
  type ProcessedBatch,
  ProcessorServiceClient,
  ProcessorServiceService,
  type ProcessRequest,
  type ProcessResponse,
} from "./gen/processor_service/v1/processor";
import { mapProcessor } from "./map-processor";

const served = serveForTests(
  serveProcessor,
  mapProcessor,
  { service: ProcessorServiceService, packageDir: join(__dirname, "..") },
  ProcessorServiceClient,
);

function configure(request: ConfigureRequest): Promise<ConfigureResponse> {
  return unary((done) => served.client.configure(request, done));
}

/** Opens a Process stream with `config`, sends one batch and returns its answer. */
async function mapBatch(config: object, events: FlowEvent[]): Promise<ProcessedBatch> {
  const stream = served.client.process();
  const reader = new StreamReader<ProcessRequest, ProcessResponse>(stream);
  stream.write({
    request: { $case: "start", value: { configJson: JSON.stringify(config), stageId: "reshape" } },
  });
  stream.write({ request: { $case: "batch", value: { sequence: 7n, batch: { events } } } });
  const message = await reader.next();
  stream.end();
  await reader.finished;
  if (message.response?.$case !== "batch") throw new Error("expected a processed batch");
  return message.response.value;
}

const time = timestampFromRfc3339("2026-02-03T04:05:06.789Z");
const order = (id: string, data: unknown): FlowEvent =>
  createEvent({
    id,
    source: "/shop",
    type: "order.created",
    subject: "old-subject",
    time,
    dataschema: "https://example.com/order.json",
    extensions: { tenant: { value: { $case: "stringValue", value: "acme" } } },
    data,
  });

describe("map processor over gRPC", () => {
  it("describes itself with the vendored contract version and its config schema", async () => {
    const { component } = await unary<DescribeResponse>((done) => served.client.describe({}, done));
    expect(component).toEqual(
      expect.objectContaining({
        name: "flow-processor-map",
        family: Family.FAMILY_PROCESSOR,
        contracts: [expect.objectContaining({ name: "processor_service", major: 1, minor: 0, patch: 0 })],
      }),
    );
    expect(Object.keys(JSON.parse(component?.configSchema ?? "{}").properties)).toEqual(
      expect.arrayContaining(["expression", "type", "subject"]),
    );
  });

  it("reports syntax errors of the payload and subject expressions at their paths", async () => {
    const response = await configure({
      configJson: JSON.stringify({ expression: "{ 'a': data.x ", subject: "data.(id", colour: 1 }),
      validateOnly: true,
      stageId: "reshape",
    });
    expect(response.accepted).toBe(false);
    // Schema issues come alone: the expressions are compiled once the shape is right.
    expect(response.issues.map((issue) => issue.path)).toEqual(["/colour"]);

    const expressions = await configure({
      configJson: JSON.stringify({ expression: "{ 'a': data.x ", subject: "data.(id" }),
      validateOnly: true,
      stageId: "reshape",
    });
    expect(expressions.issues).toEqual([
      expect.objectContaining({
        path: "/expression",
        message: expect.stringMatching(/^JSONata syntax error at line 1, column \d+/),
        severity: Severity.SEVERITY_ERROR,
      }),
      expect.objectContaining({ path: "/subject", message: expect.stringContaining('Expected ")"') }),
    ]);

    const good = await configure({
      configJson: JSON.stringify({ expression: "data", type: "t2" }),
      validateOnly: true,
      stageId: "reshape",
    });
    expect(good).toEqual(expect.objectContaining({ accepted: true, issues: [] }));
  });

  it("replaces the payload, and the type and subject when asked, keeping the rest of the event", async () => {
    const answer = await mapBatch(
      {
        expression:
          '{ "order": id, "customer": data.customer.id, "total": $sum(data.lines.(price * qty)), "tenant": extensions.tenant, "at": time }',
        type: "order.summary",
        subject: "data.customer.id",
      },
      [
        order("o-1", {
          customer: { id: "c-9" },
          lines: [
            { price: 2.5, qty: 2 },
            { price: 1, qty: 3 },
          ],
        }),
      ],
    );
    expect(answer.inputSequence).toBe(7n);
    expect(answer.deadLetters).toEqual([]);
    const [event] = answer.batch?.events ?? [];
    expect(JSON.parse(event?.data.toString() ?? "")).toEqual({
      order: "o-1",
      customer: "c-9",
      total: 8,
      tenant: "acme",
      at: "2026-02-03T04:05:06.789000000Z",
    });
    expect(event).toMatchObject({
      id: "o-1",
      source: "/shop",
      type: "order.summary",
      subject: "c-9",
      datacontenttype: "application/json",
      dataschema: "",
      time: { seconds: time.seconds, nanos: time.nanos },
      extensions: { tenant: { value: { $case: "stringValue", value: "acme" } } },
    });
  });

  it("keeps type and subject when no override is configured or the subject expression yields nothing", async () => {
    const answer = await mapBatch({ expression: "data.items", subject: "data.missing" }, [
      order("o-2", { items: [1, 2, 3] }),
    ]);
    const [event] = answer.batch?.events ?? [];
    expect(event).toMatchObject({ type: "order.created", subject: "old-subject" });
    expect(JSON.parse(event?.data.toString() ?? "")).toEqual([1, 2, 3]);
  });

  it("dead-letters events it cannot map, with the reason, and maps the others", async () => {
    const answer = await mapBatch({ expression: "data.total", subject: "data.who" }, [
      order("fine", { total: 3, who: 42 }),
      order("nothing", { other: 1 }),
      createEvent({ id: "text", source: "/s", type: "t", datacontenttype: "text/csv", data: "total\n3" }),
      order("bad-subject", { total: 1, who: { name: "x" } }),
    ]);
    expect(answer.batch?.events.map((event) => [event.id, event.data.toString(), event.subject])).toEqual([
      ["fine", "3", "42"],
    ]);
    expect(answer.deadLetters.map((letter) => [letter.event?.id, letter.reason])).toEqual([
      ["nothing", "map expression failed: the expression produced no value for this event"],
      ["text", "map expression failed: the payload is text/csv, not JSON"],
      [
        "bad-subject",
        "map expression failed: the subject expression must produce a string or a number, not object",
      ],
    ]);
  });

  it("fails a stream started with an invalid expression", async () => {
    const stream = served.client.process();
    const reader = new StreamReader<ProcessRequest, ProcessResponse>(stream);
    stream.write({
      request: {
        $case: "start",
        value: { configJson: JSON.stringify({ expression: "{" }), stageId: "reshape" },
      },
    });
    await expect(reader.finished).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringContaining("/expression"),
    });
  });
});
