import type { ClientDuplexStream } from "@grpc/grpc-js";
import { StreamReader } from "./stream-reader";

/**
 * What the driver writes on a Write stream: the start, batch and flush cases of consumer_service
 * v1's WriteRequest, with the fields it sets. A consumer package's generated client is taken as it
 * is (this package has no generated code of its own), and its types come back out of the driver.
 */
type WriteRequestSent<Event> =
  | { request: { $case: "start"; value: { configJson: string; stageId: string } } }
  | { request: { $case: "batch"; value: { sequence: bigint; batch: { events: Event[] } } } }
  | { request: { $case: "flush"; value: { token: bigint } } };

/** The oneof of a generated WriteResponse: `ack` (a BatchAck) and `flushed`. */
type WriteResponseCases = { response?: { $case: string; value: unknown } | undefined };
type CaseOf<Response extends WriteResponseCases, Name extends string> = Extract<
  NonNullable<Response["response"]>,
  { $case: Name }
>["value"];

/** A consumer's generated client, of which the driver uses the Write call. */
export interface ConsumerWriteClient<Event, Response extends WriteResponseCases> {
  write(): ClientDuplexStream<WriteRequestSent<Event>, Response>;
}

/**
 * One Write stream of a consumer over gRPC, driven as Flow Core drives it: a start with the config,
 * batches numbered 1, 2, ... unless the test numbers them itself, one answer per batch read in
 * order (awaited, never slept for), flushes answered with their token.
 *
 *     const sink = new ConsumerWriteStream(served.client, { path });
 *     expect((await sink.write(events)).status).toBe(AckStatus.ACK_STATUS_WRITTEN);
 *     await sink.end();
 */
export class ConsumerWriteStream<Event, Response extends WriteResponseCases> {
  readonly stream: ClientDuplexStream<WriteRequestSent<Event>, Response>;
  readonly reader: StreamReader<WriteRequestSent<Event>, Response>;
  /** The sequence of the last batch sent. */
  sequence = 0n;

  constructor(
    client: ConsumerWriteClient<Event, Response>,
    config: object,
    options: { stageId?: string } = {},
  ) {
    this.stream = client.write();
    this.reader = new StreamReader(this.stream);
    this.stream.write({
      request: {
        $case: "start",
        value: { configJson: JSON.stringify(config), stageId: options.stageId ?? "test" },
      },
    });
  }

  /** Sends a batch (numbered after the last one unless `sequence` is given) without waiting; its sequence. */
  send(events: Event[], sequence = this.sequence + 1n): bigint {
    this.sequence = sequence;
    this.stream.write({ request: { $case: "batch", value: { sequence, batch: { events } } } });
    return sequence;
  }

  /** The next answer, which must be an ack. */
  async ack(): Promise<CaseOf<Response, "ack">> {
    const message = await this.reader.next();
    if (message.response?.$case !== "ack")
      throw new Error(`expected an ack, got ${message.response?.$case ?? "an empty response"}`);
    return message.response.value as CaseOf<Response, "ack">;
  }

  /** Sends a batch and resolves with its ack; fails when the answer acknowledges another batch. */
  async write(events: Event[], sequence?: bigint): Promise<CaseOf<Response, "ack">> {
    const sent = this.send(events, sequence);
    const ack = await this.ack();
    const acknowledged = (ack as { sequence: bigint }).sequence;
    if (acknowledged !== sent) throw new Error(`sent batch ${sent}, got the ack of batch ${acknowledged}`);
    return ack;
  }

  /** Asks for a flush and resolves with the token the consumer echoes. */
  async flush(token: bigint): Promise<bigint> {
    this.stream.write({ request: { $case: "flush", value: { token } } });
    const message = await this.reader.next();
    if (message.response?.$case !== "flushed")
      throw new Error(`expected flushed, got ${message.response?.$case ?? "an empty response"}`);
    return (message.response.value as { token: bigint }).token;
  }

  /** Answers that arrived and were not read yet. */
  get pending(): number {
    return this.reader.pending;
  }

  /** Half-closes as Core does at the end of a run; resolves when the call ended OK, rejects with its error. */
  async end(): Promise<void> {
    this.stream.end();
    await this.reader.finished;
  }
}
