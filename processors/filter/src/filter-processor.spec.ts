import { join } from "node:path";
import { createEvent, type FlowEvent, serveProcessor, timestampFromRfc3339 } from "@flow/sdk";
import { StreamReader, serveForTests, unary } from "@flow/testing";
import { status } from "@grpc/grpc-js";
import { filterProcessor } from "./filter-processor";
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

const served = serveForTests(
  serveProcessor,
  filterProcessor,
  { service: ProcessorServiceService, packageDir: join(__dirname, "..") },
  ProcessorServiceClient,
);

function configure(request: ConfigureRequest): Promise<ConfigureResponse> {
  return unary((done) => served.client.configure(request, done));
}

/** Opens a Process stream with `config`; `send` writes a batch and resolves with its answer. */
function open(config: object) {
  const stream = served.client.process();
  const reader = new StreamReader<ProcessRequest, ProcessResponse>(stream);
  stream.write({
    request: { $case: "start", value: { configJson: JSON.stringify(config), stageId: "keep" } },
  });
  let sequence = 0n;
  const send = async (events: FlowEvent[]): Promise<ProcessedBatch> => {
    sequence += 1n;
    stream.write({ request: { $case: "batch", value: { sequence, batch: { events } } } });
    const message = await reader.next();
    if (message.response?.$case !== "batch") throw new Error("expected a processed batch");
    return message.response.value;
  };
  const close = async (): Promise<void> => {
    stream.end();
    await reader.finished;
  };
  return { send, close, reader };
}

const order = (
  id: string,
  data: unknown,
  extra: Partial<Parameters<typeof createEvent>[0]> = {},
): FlowEvent => createEvent({ id, source: "/orders", type: "order.created", data, ...extra });

describe("filter processor over gRPC", () => {
  it("describes itself with the vendored contract version and its config schema", async () => {
    const { component } = await unary<DescribeResponse>((done) => served.client.describe({}, done));
    expect(component).toEqual(
      expect.objectContaining({
        name: "flow-processor-filter",
        family: Family.FAMILY_PROCESSOR,
        contracts: [expect.objectContaining({ name: "processor_service", major: 1, minor: 0, patch: 0 })],
      }),
    );
    expect(component?.features?.deadLetters).toBe(true);
    expect(JSON.parse(component?.configSchema ?? "{}").required).toEqual(["expression"]);
  });

  it("reports a syntax error of the expression at /expression with its line, column and position", async () => {
    const response = await configure({
      configJson: JSON.stringify({ expression: 'data.total > 10\n  and type = "a" ]' }),
      validateOnly: true,
      stageId: "keep",
    });
    expect(response.accepted).toBe(false);
    expect(response.issues).toEqual([
      expect.objectContaining({
        path: "/expression",
        message: expect.stringMatching(/^JSONata syntax error at line 2, column 18 \(position 34\): .*\]/),
        severity: Severity.SEVERITY_ERROR,
      }),
    ]);

    const unterminated = await configure({
      configJson: JSON.stringify({ expression: "data.(x" }),
      validateOnly: true,
      stageId: "keep",
    });
    expect(unterminated.issues[0]?.message).toContain('Expected ")" before end of expression');

    const schema = await configure({
      configJson: JSON.stringify({ timeoutMs: 0 }),
      validateOnly: true,
      stageId: "keep",
    });
    expect(schema.issues.map((issue) => issue.path).sort()).toEqual(["/expression", "/timeoutMs"]);

    const good = await configure({
      configJson: JSON.stringify({ expression: "data.total > 10" }),
      validateOnly: true,
      stageId: "keep",
    });
    expect(good).toEqual(expect.objectContaining({ accepted: true, issues: [] }));
  });

  it("keeps the events the expression finds truthy, unchanged, and answers every batch", async () => {
    const { send, close } = open({
      expression: 'data.total > 10 and extensions.tenant = "acme" and $exists(subject)',
    });
    const tenant = { tenant: { value: { $case: "stringValue" as const, value: "acme" } } };
    const kept = order("o-1", { total: 12 }, { subject: "s-1", extensions: tenant });
    const answer = await send([
      kept,
      order("o-2", { total: 5 }, { subject: "s-2", extensions: tenant }),
      order("o-3", { total: 50 }, { subject: "s-3" }),
      order("o-4", { total: 50 }, { extensions: tenant }),
    ]);
    expect(answer.inputSequence).toBe(1n);
    expect(answer.deadLetters).toEqual([]);
    expect(answer.batch?.events.map((event) => event.id)).toEqual(["o-1"]);
    expect(answer.batch?.events[0]).toMatchObject({
      ...kept,
      extensions: { tenant: { value: { $case: "stringValue", value: "acme" } } },
    });

    const none = await send([order("o-5", { total: 1 })]);
    expect(none.inputSequence).toBe(2n);
    expect(none.batch?.events ?? []).toEqual([]);
    await close();
  });

  it("dead-letters an event whose payload is not JSON, with the reason, and keeps going", async () => {
    const { send, close } = open({ expression: "data.total > 10" });
    const answer = await send([
      order("ok", { total: 11 }),
      createEvent({ id: "text", source: "/s", type: "t", datacontenttype: "text/plain", data: "total=11" }),
      createEvent({
        id: "broken",
        source: "/s",
        type: "t",
        datacontenttype: "application/json",
        data: Buffer.from("{total: 11"),
      }),
      order("also-ok", { total: 20 }),
    ]);
    expect(answer.batch?.events.map((event) => event.id)).toEqual(["ok", "also-ok"]);
    expect(answer.deadLetters.map((letter) => [letter.event?.id, letter.reason])).toEqual([
      ["text", "filter expression failed: the payload is text/plain, not JSON"],
      ["broken", expect.stringMatching(/^filter expression failed: the payload is not valid JSON: /)],
    ]);
    await close();
  });

  it("lets an expression that never reads data pass any payload", async () => {
    const { send, close } = open({ expression: 'type = "keep" and time >= "2026-01-01"' });
    const time = timestampFromRfc3339("2026-05-01T00:00:00.5Z");
    const answer = await send([
      createEvent({
        id: "bin",
        source: "/s",
        type: "keep",
        time,
        datacontenttype: "application/octet-stream",
        data: Buffer.from([0, 255]),
      }),
      createEvent({
        id: "old",
        source: "/s",
        type: "keep",
        time: timestampFromRfc3339("2025-12-31T23:59:59Z"),
      }),
      createEvent({ id: "other", source: "/s", type: "drop", time }),
    ]);
    expect(answer.batch?.events.map((event) => event.id)).toEqual(["bin"]);
    expect(answer.deadLetters).toEqual([]);
    await close();
  });

  it("dead-letters an event whose evaluation fails or runs too long", async () => {
    const { send, close } = open({
      expression: "$number(data.amount) > 0 or ($loop := function($n) { $loop($n + 1) }; $loop(data.spin))",
      timeoutMs: 50,
    });
    const answer = await send([
      order("bad-number", { amount: "twelve" }),
      order("spins", { amount: "0", spin: 0 }),
      order("fine", { amount: "3" }),
    ]);
    expect(answer.batch?.events.map((event) => event.id)).toEqual(["fine"]);
    expect(answer.deadLetters.map((letter) => letter.event?.id)).toEqual(["bad-number", "spins"]);
    expect(answer.deadLetters[0]?.reason).toMatch(/^filter expression failed: .*\[D3030/);
    expect(answer.deadLetters[1]?.reason).toMatch(/^filter expression failed: .*\[(D1011|D1012)/);
    await close();
  });

  it("fails a stream started with an invalid expression", async () => {
    const { reader } = open({ expression: "(((" });
    await expect(reader.finished).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringContaining("/expression: JSONata syntax error"),
    });
  });
});
