import { StreamReader } from "@flow/testing";
import * as grpc from "@grpc/grpc-js";
import { createEvent, eventJson, type FlowEvent } from "./flow-event";
import type {
  ProcessedBatch,
  ProcessorServiceClient,
  ProcessRequest,
  ProcessResponse,
} from "./gen/processor_service/v1/processor";
import { deadLetter, type ProcessorDefinition } from "./processor";
import { PermanentError, RetryableError } from "./service-errors";
import { type Running, runProcessor } from "./test-support/family-servers";
import { payloadNumbers, testEvents } from "./test-support/test-events";

interface ParityConfig {
  keep: "even" | "odd";
}

const parityConfigSchema = {
  type: "object",
  required: ["keep"],
  properties: { keep: { enum: ["even", "odd"] } },
};

/** Keeps events of one parity, doubles multiples of 3, dead-letters 7 and throws on 13. */
const parityProcessor: ProcessorDefinition<ParityConfig, { remainder: number }> = {
  name: "test-parity",
  version: "1.0.0",
  configSchema: parityConfigSchema,
  setup: (config) => ({ remainder: config.keep === "even" ? 0 : 1 }),
  process(event, state) {
    const { n } = eventJson(event) as { n: number };
    if (n === 7) return deadLetter("seven is unlucky");
    if (n === 13) throw new Error("thirteen broke the parser");
    if (n % 2 !== state.remainder) return null;
    if (n % 3 === 0)
      return [
        event,
        createEvent({ id: `${event.id}-copy`, source: event.source, type: event.type, data: { n } }),
      ];
    return event;
  },
};

function openProcess(client: ProcessorServiceClient, config: object) {
  const call = client.process();
  const reader = new StreamReader<ProcessRequest, ProcessResponse>(call);
  call.write({
    request: { $case: "start", value: { configJson: JSON.stringify(config), stageId: "parity" } },
  });
  const send = (sequence: bigint, events: FlowEvent[]): void => {
    call.write({ request: { $case: "batch", value: { sequence, batch: { events } } } });
  };
  const answer = async (): Promise<ProcessedBatch> => {
    const response = await reader.next();
    if (response.response?.$case !== "batch") throw new Error("expected a processed batch");
    return response.response.value;
  };
  return { call, reader, send, answer };
}

describe("processor streams (processor_service v1 over a real port)", () => {
  let running: Running<ProcessorServiceClient> | undefined;
  afterEach(async () => {
    await running?.close();
    running = undefined;
  });

  it("answers every input batch by its sequence, including one whose events are all filtered out", async () => {
    running = await runProcessor(parityProcessor);
    const stream = openProcess(running.client, { keep: "even" });
    stream.send(10n, testEvents(1, 4)); // 1 2 3 4
    stream.send(11n, [testEvents(5, 1)[0] as FlowEvent, ...testEvents(9, 1)]); // 5 9: all odd
    stream.send(12n, testEvents(6, 1)); // 6: even and a multiple of 3

    const answers = [await stream.answer(), await stream.answer(), await stream.answer()];
    expect(answers.map((answer) => answer.inputSequence)).toEqual([10n, 11n, 12n]);
    expect(payloadNumbers(answers[0]?.batch?.events ?? [])).toEqual([2, 4]);
    expect(answers[1]?.batch?.events ?? []).toEqual([]);
    expect(answers[1]?.deadLetters).toEqual([]);
    expect(answers[1]?.failure).toBeUndefined();
    expect((answers[2]?.batch?.events ?? []).map((event) => event.id)).toEqual(["event-6", "event-6-copy"]);

    stream.call.end();
    expect((await stream.reader.status).code).toBe(grpc.status.OK);
  });

  it("turns a throwing event and a dead-letter verdict into dead letters and goes on with the stream", async () => {
    running = await runProcessor(parityProcessor);
    const stream = openProcess(running.client, { keep: "odd" });
    const events = testEvents(11, 4); // 11 12 13 14
    stream.send(1n, [...events, ...testEvents(7, 1)]);
    stream.send(2n, testEvents(15, 2)); // 15 16

    const first = await stream.answer();
    expect(first.inputSequence).toBe(1n);
    expect(payloadNumbers(first.batch?.events ?? [])).toEqual([11]);
    expect(first.deadLetters.map((letter) => [letter.event?.id, letter.reason])).toEqual([
      ["event-13", "thirteen broke the parser"],
      ["event-7", "seven is unlucky"],
    ]);
    // A dead letter carries the whole event back, payload included.
    expect(first.deadLetters[0]?.event?.data).toEqual(events[2]?.data);
    expect(first.failure).toBeUndefined();

    const second = await stream.answer();
    expect(second.inputSequence).toBe(2n);
    expect(payloadNumbers(second.batch?.events ?? [])).toEqual([15, 15]);
    stream.call.end();
    expect((await stream.reader.status).code).toBe(grpc.status.OK);
  });

  it("reports a failing processBatch as a retryable or a permanent BatchFailure and keeps the stream", async () => {
    running = await runProcessor<ParityConfig, ParityConfig>({
      name: "test-batch",
      version: "1.0.0",
      configSchema: parityConfigSchema,
      processBatch(events) {
        const first = payloadNumbers(events)[0];
        if (first === 1) throw new RetryableError("the lookup service is down");
        if (first === 2) throw new PermanentError("the batch has no schema");
        if (first === 3) throw new Error("unexpected");
        return {
          events: events.slice(1),
          deadLetters: [{ event: events[0] as FlowEvent, reason: "first one out" }],
        };
      },
    });
    const stream = openProcess(running.client, { keep: "odd" });
    for (const n of [1, 2, 3, 4]) stream.send(BigInt(n), testEvents(n, 2));
    const answers = [
      await stream.answer(),
      await stream.answer(),
      await stream.answer(),
      await stream.answer(),
    ];
    expect(answers.map((answer) => [answer.inputSequence, answer.failure])).toEqual([
      [1n, expect.objectContaining({ reason: "the lookup service is down", retryable: true })],
      [2n, expect.objectContaining({ reason: "the batch has no schema", retryable: false })],
      [3n, expect.objectContaining({ reason: "unexpected", retryable: true })],
      [4n, undefined],
    ]);
    expect(answers.slice(0, 3).every((answer) => (answer.batch?.events ?? []).length === 0)).toBe(true);
    expect(payloadNumbers(answers[3]?.batch?.events ?? [])).toEqual([5]);
    expect(answers[3]?.deadLetters.map((letter) => letter.reason)).toEqual(["first one out"]);
    stream.call.end();
    expect((await stream.reader.status).code).toBe(grpc.status.OK);
  });

  it("accepts a setup that returns nothing", async () => {
    const seen: number[] = [];
    running = await runProcessor<ParityConfig, void>({
      name: "test-void-state",
      version: "1.0.0",
      configSchema: parityConfigSchema,
      setup: () => undefined,
      process(event) {
        seen.push(...payloadNumbers([event]));
        return event;
      },
    });
    const stream = openProcess(running.client, { keep: "odd" });
    stream.send(1n, testEvents(1, 2));
    const answer = await stream.answer();
    expect(payloadNumbers(answer.batch?.events ?? [])).toEqual([1, 2]);
    expect(seen).toEqual([1, 2]);
    stream.call.end();
    expect((await stream.reader.status).code).toBe(grpc.status.OK);
  });

  it("fails the stream with INVALID_ARGUMENT when the configuration on start is invalid", async () => {
    running = await runProcessor(parityProcessor);
    const stream = openProcess(running.client, { keep: "prime" });
    stream.send(1n, testEvents(1, 1));
    const status = await stream.reader.status;
    expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(status.details).toContain("/keep: must be one of");
    await expect(stream.reader.next()).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
  });

  it("fails the stream with FAILED_PRECONDITION when a batch comes before start", async () => {
    running = await runProcessor(parityProcessor);
    const call = running.client.process();
    const reader = new StreamReader<ProcessRequest, ProcessResponse>(call);
    call.write({ request: { $case: "batch", value: { sequence: 1n, batch: { events: testEvents(1, 1) } } } });
    expect((await reader.status).code).toBe(grpc.status.FAILED_PRECONDITION);
  });
});
