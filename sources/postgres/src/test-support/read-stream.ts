import { join } from "node:path";
import { type FlowEvent, serveSource } from "@flow/sdk";
import { StreamReader, serveForTests, unary } from "@flow/testing";
import {
  type ConfigureResponse,
  type ReadRequest,
  type ReadResponse,
  SourceServiceClient,
  SourceServiceService,
} from "../gen/source_service/v1/source";
import { postgresSource } from "../postgres-source";

/** The source served in this test file's process on a free port, with a client of the generated code. */
export function servePostgresSource(): { readonly client: SourceServiceClient } {
  return serveForTests(
    serveSource,
    postgresSource,
    { service: SourceServiceService, packageDir: join(__dirname, "..", "..") },
    SourceServiceClient,
  );
}

export interface ReadBatch {
  sequence: bigint;
  events: FlowEvent[];
  checkpoint: Buffer;
}

/** One Read stream of the served source, driven as Core drives it: credits, batches, commit notices. */
export class ReadStream {
  private readonly stream;
  readonly reader: StreamReader<ReadRequest, ReadResponse>;
  readonly checkpoints = new Map<bigint, Buffer>();

  constructor(
    served: { readonly client: SourceServiceClient },
    config: object,
    options: { checkpoint?: Buffer; credits?: number; maxBatchSize?: number; maxBatchBytes?: number } = {},
  ) {
    this.stream = served.client.read();
    this.reader = new StreamReader<ReadRequest, ReadResponse>(this.stream);
    this.stream.write({
      request: {
        $case: "start",
        value: {
          configJson: JSON.stringify(config),
          ...(options.checkpoint ? { checkpoint: { position: options.checkpoint, description: "" } } : {}),
          initialCredits: options.credits ?? 10,
          maxBatchSize: options.maxBatchSize ?? 100,
          maxBatchBytes: BigInt(options.maxBatchBytes ?? 0),
          lingerMs: 0,
          stageId: "postgres-test",
        },
      },
    });
  }

  async batch(): Promise<ReadBatch> {
    const message = await this.reader.next();
    if (message.response?.$case !== "batch")
      throw new Error(`expected a batch, got ${message.response?.$case}`);
    const { sequence, batch, checkpoint } = message.response.value;
    const position = checkpoint?.position ?? Buffer.alloc(0);
    this.checkpoints.set(sequence, position);
    return { sequence, events: (batch?.events ?? []) as FlowEvent[], checkpoint: position };
  }

  /** Batches until `count` events came (a test that expects more fails by jest's timeout). */
  async events(count: number): Promise<FlowEvent[]> {
    const events: FlowEvent[] = [];
    while (events.length < count) events.push(...(await this.batch()).events);
    return events;
  }

  /** Batches until they hold `count` events in all. */
  async batchesOf(count: number): Promise<ReadBatch[]> {
    const batches: ReadBatch[] = [];
    let events = 0;
    while (events < count) {
      const batch = await this.batch();
      batches.push(batch);
      events += batch.events.length;
    }
    return batches;
  }

  /** Core's commit notice for the batch `sequence` (and, by that, every batch before it). */
  commit(sequence: bigint): void {
    const position = this.checkpoints.get(sequence) ?? Buffer.alloc(0);
    this.stream.write({
      request: { $case: "commit", value: { sequence, checkpoint: { position, description: "" } } },
    });
  }

  credit(batches: number): void {
    this.stream.write({ request: { $case: "credit", value: { batches } } });
  }

  async end(): Promise<void> {
    this.stream.end();
    await this.reader.status;
  }
}

/** Configure with validate_only, as `flow validate` calls it. */
export function validateOnly(
  served: { readonly client: SourceServiceClient },
  config: object,
): Promise<ConfigureResponse> {
  return unary((done) =>
    served.client.configure(
      { configJson: JSON.stringify(config), validateOnly: true, stageId: "postgres-test" },
      done,
    ),
  );
}

/** The JSON payload of an event. */
export const payload = (event: FlowEvent): Record<string, unknown> => JSON.parse(event.data.toString("utf8"));
