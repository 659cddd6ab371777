import * as grpc from "@grpc/grpc-js";
import { bundledMessages } from "../bundle-frames";
import type { Peer } from "../gen/peer/v1/peer";
import { IngestResponse } from "../gen/processor_service/v2/processor";
import { type PeerBatchFrame, readPeerBatch } from "../peer-batch-frame";

/** processor_service v2's Ingest, the method Core names in a processor peer's `ingest_method`. */
export const PROCESSOR_INGEST = "/flow.microservices.processor_service.v2.ProcessorService/Ingest";

/** One IngestRequest a recorder got (alone or in a bundle), as its bytes and as read. */
export interface RecordedBatch extends PeerBatchFrame {
  frame: Buffer;
}

/**
 * A test peer of the direct data path: a gRPC server on an OS-chosen port that serves only Ingest
 * and records every IngestRequest pushed to it, byte for byte, each of a bundle's on its own. A test awaits what it expects
 * (`batches(n)`, `ended(n)`), never sleeping for it.
 */
export class IngestRecorder {
  readonly received: RecordedBatch[] = [];
  /** The Ingest messages that carried them: fewer than `received` when some came in bundles. */
  messages = 0;
  /** Ingest calls that ended (the upstream half-closed them, or they broke). */
  endedCalls = 0;
  private readonly waiters: (() => void)[] = [];
  private readonly server = new grpc.Server();
  private port = 0;

  private constructor(private readonly method: string) {}

  static async start(method = PROCESSOR_INGEST): Promise<IngestRecorder> {
    const recorder = new IngestRecorder(method);
    await recorder.listen();
    return recorder;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  private async listen(): Promise<void> {
    const definition: grpc.ServiceDefinition = {
      ingest: {
        path: this.method,
        requestStream: true,
        responseStream: false,
        requestSerialize: (frame: Buffer) => frame,
        requestDeserialize: (frame: Buffer) => frame,
        responseSerialize: (summary: IngestResponse) => Buffer.from(IngestResponse.encode(summary).finish()),
        responseDeserialize: (frame: Buffer) => IngestResponse.decode(frame),
      },
    };
    this.server.addService(definition, { ingest: this.ingest });
    this.port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
  }

  private readonly ingest = (
    call: grpc.ServerReadableStream<Buffer, IngestResponse>,
    done: grpc.sendUnaryData<IngestResponse>,
  ): void => {
    let batches = 0n;
    let over = false;
    const end = (): void => {
      if (over) return;
      over = true;
      this.endedCalls += 1;
      this.changed();
    };
    call.on("data", (message: Buffer) => {
      this.messages += 1;
      for (const frame of bundledMessages(message) ?? [message]) {
        batches += 1n;
        this.received.push({ frame, ...readPeerBatch(frame) });
      }
      this.changed();
    });
    call.on("end", () => {
      done(null, { batches });
      end();
    });
    call.on("close", end);
  };

  /** This recorder as a Peer in a stream start, with the limits given. */
  peer(
    limits: { maxBatchSize?: number; maxBatchBytes?: number; bundles?: boolean } = {},
    stageId = "peer",
  ): Peer {
    return {
      stageId,
      address: this.address,
      maxBatchSize: limits.maxBatchSize ?? 0,
      maxBatchBytes: BigInt(limits.maxBatchBytes ?? 0),
      ingestMethod: PROCESSOR_INGEST,
      bundles: limits.bundles ?? false,
    };
  }

  /** Resolves once `count` batches came in all. */
  batches(count: number): Promise<RecordedBatch[]> {
    return this.until(() => this.received.length >= count).then(() => this.received.slice(0, count));
  }

  /** Resolves once `count` Ingest calls ended. */
  ended(count = 1): Promise<void> {
    return this.until(() => this.endedCalls >= count);
  }

  /** Stops at once: Ingest calls still open break. */
  stop(): Promise<void> {
    this.server.forceShutdown();
    return Promise.resolve();
  }

  private until(condition: () => boolean): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (): void => {
        if (condition()) resolve();
        else this.waiters.push(check);
      };
      this.waiters.push(check);
    });
  }

  private changed(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}
