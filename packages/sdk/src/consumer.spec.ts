import { StreamReader } from "@flow/testing";
import * as grpc from "@grpc/grpc-js";
import type { ConsumerDefinition, ConsumerWriter } from "./consumer";
import type { FlowEvent } from "./flow-event";
import {
  AckStatus,
  type ConsumerServiceClient,
  type WriteRequest,
  type WriteResponse,
} from "./gen/consumer_service/v1/consumer";
import { PermanentError, RetryableError } from "./service-errors";
import { type Running, runConsumer } from "./test-support/family-servers";
import { payloadNumbers, testEvents } from "./test-support/test-events";

interface TableConfig {
  table: string;
}

/**
 * A consumer that buffers rows and makes them durable on flush. The first event's payload
 * decides the outcome of a write: 1 retryable, 2 permanent, 3 an unexpected error.
 */
function tableConsumer() {
  const log: string[] = [];
  const durable: number[] = [];
  const definition: ConsumerDefinition<TableConfig> = {
    name: "test-table",
    version: "1.0.0",
    configSchema: {
      type: "object",
      required: ["table"],
      properties: { table: { type: "string" } },
      additionalProperties: false,
    },
    open(config, context): ConsumerWriter {
      log.push(`open ${config.table} for ${context.stageId}`);
      const buffered: number[] = [];
      return {
        write(events: FlowEvent[], { sequence }) {
          const numbers = payloadNumbers(events);
          if (numbers[0] === 1) throw new RetryableError("the table is locked");
          if (numbers[0] === 2) throw new PermanentError("row 2 violates a constraint");
          if (numbers[0] === 3) throw new TypeError("cannot read properties of undefined");
          log.push(`write ${sequence}`);
          buffered.push(...numbers);
        },
        flush() {
          log.push("flush");
          durable.push(...buffered.splice(0));
        },
        close() {
          log.push("close");
        },
      };
    },
  };
  return { definition, log, durable };
}

function openWrite(client: ConsumerServiceClient, config: object) {
  const call = client.write();
  const reader = new StreamReader<WriteRequest, WriteResponse>(call);
  call.write({ request: { $case: "start", value: { configJson: JSON.stringify(config), stageId: "rows" } } });
  const send = (sequence: bigint, events: FlowEvent[]): void => {
    call.write({ request: { $case: "batch", value: { sequence, batch: { events } } } });
  };
  return { call, reader, send };
}

describe("consumer streams (consumer_service v1 over a real port)", () => {
  let running: Running<ConsumerServiceClient> | undefined;
  afterEach(async () => {
    await running?.close();
    running = undefined;
  });

  it("acknowledges each batch as written, retryable or permanent, and answers flush with flushed", async () => {
    const { definition, log, durable } = tableConsumer();
    running = await runConsumer(definition);
    const stream = openWrite(running.client, { table: "rows" });
    stream.send(1n, testEvents(4, 2));
    stream.send(2n, testEvents(1, 1));
    stream.send(3n, testEvents(2, 1));
    stream.send(4n, testEvents(3, 1));
    stream.send(5n, testEvents(6, 3));
    stream.call.write({ request: { $case: "flush", value: { token: 2n ** 63n + 1n } } });

    const acks = (await stream.reader.take(5)).map((response) => {
      if (response.response?.$case !== "ack") throw new Error("expected an ack");
      const { sequence, status, reason } = response.response.value;
      return { sequence, status, reason };
    });
    expect(acks).toEqual([
      { sequence: 1n, status: AckStatus.ACK_STATUS_WRITTEN, reason: "" },
      { sequence: 2n, status: AckStatus.ACK_STATUS_RETRYABLE_FAILURE, reason: "the table is locked" },
      { sequence: 3n, status: AckStatus.ACK_STATUS_PERMANENT_FAILURE, reason: "row 2 violates a constraint" },
      // Anything but PermanentError is worth a retry; the reason says it was not expected.
      {
        sequence: 4n,
        status: AckStatus.ACK_STATUS_RETRYABLE_FAILURE,
        reason: "unexpected: cannot read properties of undefined",
      },
      { sequence: 5n, status: AckStatus.ACK_STATUS_WRITTEN, reason: "" },
    ]);
    expect(await stream.reader.next()).toMatchObject({
      response: { $case: "flushed", value: { token: 2n ** 63n + 1n } },
    });
    expect(durable).toEqual([4, 5, 6, 7, 8]);

    stream.call.end();
    expect((await stream.reader.status).code).toBe(grpc.status.OK);
    expect(log).toEqual(["open rows for rows", "write 1", "write 5", "flush", "flush", "close"]);
  });

  it("works with the write shorthand (no open)", async () => {
    const written: number[][] = [];
    running = await runConsumer<TableConfig>({
      name: "test-short",
      version: "1.0.0",
      configSchema: { type: "object" },
      write: (events) => void written.push(payloadNumbers(events)),
    });
    const stream = openWrite(running.client, {});
    stream.send(7n, testEvents(1, 2));
    expect(await stream.reader.next()).toMatchObject({
      response: { $case: "ack", value: { sequence: 7n, status: AckStatus.ACK_STATUS_WRITTEN } },
    });
    expect(written).toEqual([[1, 2]]);
    stream.call.end();
    expect((await stream.reader.status).code).toBe(grpc.status.OK);
  });

  it("fails the stream with INVALID_ARGUMENT when the configuration on start is invalid, and opens nothing", async () => {
    const { definition, log } = tableConsumer();
    running = await runConsumer(definition);
    const stream = openWrite(running.client, { tabel: "rows" });
    stream.send(1n, testEvents(4, 1));
    const status = await stream.reader.status;
    expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(status.details).toBe(
      'invalid configuration: /table: required property "table" is missing; /tabel: unknown property "tabel" (check its spelling against the service\'s schema)',
    );
    expect(log).toEqual([]);
  });

  it("closes the writer once when flush fails at the end, and fails the call instead of the process", async () => {
    const closes: string[] = [];
    running = await runConsumer<TableConfig>({
      name: "test-bad-flush",
      version: "1.0.0",
      configSchema: { type: "object" },
      open: () => ({
        write: () => undefined,
        flush: () => {
          throw new Error("disk full");
        },
        close: () => void closes.push("close"),
      }),
    });
    const stream = openWrite(running.client, { table: "rows" });
    stream.send(1n, testEvents(4, 1));
    await stream.reader.next();
    stream.call.end();
    const status = await stream.reader.status;
    expect(status.code).toBe(grpc.status.INTERNAL);
    expect(status.details).toContain("disk full");
    expect(closes).toEqual(["close"]);
  });
});
