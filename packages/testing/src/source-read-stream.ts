import type { ClientDuplexStream } from "@grpc/grpc-js";
import { StreamReader } from "./stream-reader";

/**
 * What the driver writes on a Read stream: the start, credit and commit cases of source_service
 * v1's ReadRequest, with the fields it sets. A source package's generated client is taken as it is
 * (this package has no generated code of its own), and its types come back out of the driver.
 */
type ReadRequestSent =
  | {
      request: {
        $case: "start";
        value: {
          configJson: string;
          checkpoint?: { position: Buffer; description: string } | undefined;
          initialCredits: number;
          maxBatchSize: number;
          maxBatchBytes: bigint;
          lingerMs: number;
          stageId: string;
          /** The direct data path's peers (source_service v2.1): none, a test reads the batches itself. */
          peers: never[];
          /** Whether the test reads bundles (source_service v2.2): never, it reads one message at a time. */
          acceptsBundles: false;
        };
      };
    }
  | { request: { $case: "credit"; value: { batches: number } } }
  | {
      request: {
        $case: "commit";
        value: { sequence: bigint; checkpoint: { position: Buffer; description: string } };
      };
    };

/** The oneof of a generated ReadResponse: `batch` (a SourceBatch) and `exhausted` are the ones the driver reads. */
type ReadResponseCases = { response?: { $case: string; value: unknown } | undefined };
type CaseOf<Response extends ReadResponseCases, Name extends string> = Extract<
  NonNullable<Response["response"]>,
  { $case: Name }
>["value"];
type SourceBatchOf<Response extends ReadResponseCases> = CaseOf<Response, "batch">;
type EventOf<Batch> = Batch extends { batch?: { events: (infer Event)[] } | undefined } ? Event : never;

/** A source's generated client, of which the driver uses the Read call. */
export interface SourceReadClient<Response extends ReadResponseCases> {
  read(): ClientDuplexStream<ReadRequestSent, Response>;
}

/** The generated SourceBatch as it came, with its events and its checkpoint's position at hand. */
export type ReadBatch<Response extends ReadResponseCases> = SourceBatchOf<Response> & {
  events: EventOf<SourceBatchOf<Response>>[];
  position: Buffer;
};

export interface SourceReadOptions {
  /** The checkpoint to resume from, as Core passes a committed one back (a string is its UTF-8 bytes). */
  checkpoint?: Buffer | string;
  /** Batches the source may send before it is granted more; default 10. */
  credits?: number;
  /** Events a batch may hold; default 100 (0: the source's own choice). */
  maxBatchSize?: number;
  /** Encoded bytes a batch may hold; default 0 (no limit). */
  maxBatchBytes?: number;
  lingerMs?: number;
  stageId?: string;
}

/**
 * One Read stream of a source over gRPC, driven as Flow Core drives it: a start with the config and
 * the credits, batches read one by one (a test that waits for more than comes fails by jest's
 * timeout, never by a sleep), credits granted and commit notices sent when the test says.
 *
 *     const read = new SourceReadStream(served.client, { url, stream }, { credits: 2 });
 *     const batch = await read.batch();
 *     read.commit(batch);
 *     await read.end();
 */
export class SourceReadStream<Response extends ReadResponseCases> {
  readonly stream: ClientDuplexStream<ReadRequestSent, Response>;
  readonly reader: StreamReader<ReadRequestSent, Response>;
  /** The checkpoint position of every batch read so far, by sequence. */
  readonly positions = new Map<bigint, Buffer>();

  constructor(client: SourceReadClient<Response>, config: object, options: SourceReadOptions = {}) {
    this.stream = client.read();
    this.reader = new StreamReader(this.stream);
    const checkpoint =
      options.checkpoint === undefined
        ? undefined
        : { position: Buffer.from(options.checkpoint), description: "" };
    this.stream.write({
      request: {
        $case: "start",
        value: {
          configJson: JSON.stringify(config),
          ...(checkpoint ? { checkpoint } : {}),
          initialCredits: options.credits ?? 10,
          maxBatchSize: options.maxBatchSize ?? 100,
          maxBatchBytes: BigInt(options.maxBatchBytes ?? 0),
          lingerMs: options.lingerMs ?? 0,
          stageId: options.stageId ?? "test",
          // Every repeated field of the v2.1 ReadStart must be there for its generated encoder.
          peers: [],
          acceptsBundles: false,
        },
      },
    });
  }

  /** The call's final status, once it is over. */
  get status() {
    return this.reader.status;
  }

  /** The next batch; fails on anything else (e.g. `exhausted`) and when the stream ends or fails. */
  async batch(): Promise<ReadBatch<Response>> {
    const message = await this.reader.next();
    if (message.response?.$case !== "batch")
      throw new Error(`expected a batch, got ${message.response?.$case ?? "an empty response"}`);
    return this.remembered(message.response.value as SourceBatchOf<Response>);
  }

  /** Batches until they hold `count` events in all. */
  async batchesOf(count: number): Promise<ReadBatch<Response>[]> {
    const batches: ReadBatch<Response>[] = [];
    let events = 0;
    while (events < count) {
      const batch = await this.batch();
      batches.push(batch);
      events += batch.events.length;
    }
    return batches;
  }

  /** The events of batches until `count` events came. */
  async events(count: number): Promise<EventOf<SourceBatchOf<Response>>[]> {
    return eventsIn(await this.batchesOf(count));
  }

  /** Batches until the source reports `exhausted`, and the last sequence it names. */
  async untilExhausted(): Promise<{ batches: ReadBatch<Response>[]; lastSequence: bigint }> {
    const batches: ReadBatch<Response>[] = [];
    for (;;) {
      const message = await this.reader.next();
      if (message.response?.$case === "exhausted")
        return { batches, lastSequence: (message.response.value as { lastSequence: bigint }).lastSequence };
      if (message.response?.$case === "batch")
        batches.push(this.remembered(message.response.value as SourceBatchOf<Response>));
    }
  }

  /** Core's commit notice for a batch read (and, by that, every batch before it), by the batch or its sequence. */
  commit(batch: bigint | { sequence: bigint }): void {
    const sequence = typeof batch === "bigint" ? batch : batch.sequence;
    const position = this.positions.get(sequence) ?? Buffer.alloc(0);
    this.stream.write({
      request: { $case: "commit", value: { sequence, checkpoint: { position, description: "" } } },
    });
  }

  credit(batches: number): void {
    this.stream.write({ request: { $case: "credit", value: { batches } } });
  }

  /** Half-closes as Core does when it stops a source; resolves when the call ended OK, rejects with its error. */
  async end(): Promise<void> {
    this.stream.end();
    await this.reader.finished;
  }

  cancel(): void {
    this.stream.cancel();
  }

  private remembered(batch: SourceBatchOf<Response>): ReadBatch<Response> {
    const value = batch as {
      sequence: bigint;
      batch?: { events: unknown[] };
      checkpoint?: { position: Buffer };
    };
    const position = value.checkpoint?.position ?? Buffer.alloc(0);
    this.positions.set(value.sequence, position);
    return { ...(batch as object), events: value.batch?.events ?? [], position } as ReadBatch<Response>;
  }
}

/** Every event of `batches`, in order. */
export function eventsIn<Event>(batches: readonly { events: Event[] }[]): Event[] {
  return batches.flatMap((batch) => batch.events);
}
