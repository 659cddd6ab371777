import { FLOW_CHANNEL_OPTIONS } from "@flow/sdk";
import * as grpc from "@grpc/grpc-js";
import type { Logger } from "pino";
import type { ServiceEndpoint } from "../discovery/service-endpoint";
import { ReadRequest, SourceServiceService } from "../gen/source_service/v1/source";
import type { RawBatch } from "./raw-batch";
import type { StagePlan } from "./run-plan";
import type { Checkpointed } from "./source-ledger";
import { decodeReadResponse, type SourceMessage } from "./stream-codecs";

export interface SourceHooks {
  onBatch(sequence: bigint, batch: RawBatch, checkpoint: Checkpointed): void;
  /** A finite source has sent everything. */
  onExhausted(): void;
  /** The stream broke (the service died or went away). */
  onBroken(reason: string): void;
}

/** The Read stream to one source stage: credits go up, batches with checkpoints come down. */
export class SourceLink {
  private client: grpc.Client | undefined;
  private stream: grpc.ClientDuplexStream<ReadRequest, SourceMessage> | undefined;
  private ended: (() => void) | undefined;
  private closing = false;

  constructor(
    readonly stage: StagePlan,
    private readonly endpoint: ServiceEndpoint,
    private readonly hooks: SourceHooks,
    private readonly logger: Logger,
    /** The largest encoded EventBatch Core takes from the source (negotiated; ReadStart.max_batch_bytes). */
    private readonly maxBatchBytes: number,
  ) {}

  /** Opens a Read stream resuming after `checkpoint` (undefined: from the beginning). */
  open(checkpoint: Checkpointed | undefined, credits: number): void {
    this.closing = false;
    this.dropUnsentCredits();
    this.client?.close();
    const client = new grpc.Client(
      this.endpoint.target,
      grpc.credentials.createInsecure(),
      FLOW_CHANNEL_OPTIONS,
    );
    this.client = client;
    const stream = client.makeBidiStreamRequest(
      SourceServiceService.read.path,
      (request: ReadRequest) => Buffer.from(ReadRequest.encode(request).finish()),
      decodeReadResponse,
    );
    this.stream = stream;
    stream.on("data", (message: SourceMessage) => {
      if (this.stream !== stream) return;
      if (message.kind === "batch") this.hooks.onBatch(message.sequence, message.batch, message.checkpoint);
      else if (message.kind === "exhausted") this.hooks.onExhausted();
    });
    const broken = (reason: string): void => {
      if (this.stream !== stream) return;
      this.stream = undefined;
      if (this.closing) {
        this.ended?.();
        return;
      }
      this.hooks.onBroken(reason);
    };
    stream.on("error", (error: grpc.ServiceError) =>
      broken(`stream failed: ${error.details || error.message}`),
    );
    stream.on("end", () => broken("the source ended the stream"));
    const { maxSize, lingerMs } = this.stage.settings.batch;
    stream.write({
      request: {
        $case: "start",
        value: {
          configJson: JSON.stringify(this.stage.config ?? {}),
          checkpoint: checkpoint
            ? { position: checkpoint.position, description: checkpoint.description }
            : undefined,
          initialCredits: credits,
          maxBatchSize: maxSize,
          maxBatchBytes: BigInt(this.maxBatchBytes),
          lingerMs,
          stageId: this.stage.id,
        },
      },
    });
    this.logger.debug(
      { stage: this.stage.id, resume: checkpoint?.description ?? "start", credits },
      "source stream open",
    );
  }

  /**
   * Grants `batches` more credits. Grants made in one turn of the event loop (several
   * acknowledgements read from one socket read) go out as one CreditGrant: at small batch sizes a
   * message per acknowledged batch is a good part of Core's work.
   */
  grant(batches: number): void {
    if (batches <= 0 || !this.stream) return;
    this.unsentCredits += batches;
    this.creditFlush ??= setImmediate(() => {
      this.creditFlush = undefined;
      const credits = this.unsentCredits;
      this.unsentCredits = 0;
      if (credits > 0) this.stream?.write({ request: { $case: "credit", value: { batches: credits } } });
    });
  }
  private unsentCredits = 0;
  private creditFlush: NodeJS.Immediate | undefined;

  /** Credits granted on a stream that is gone: its successor starts with credits of its own. */
  private dropUnsentCredits(): void {
    if (this.creditFlush) clearImmediate(this.creditFlush);
    this.creditFlush = undefined;
    this.unsentCredits = 0;
  }

  commit(sequence: bigint, checkpoint: Checkpointed): void {
    this.stream?.write({ request: { $case: "commit", value: { sequence, checkpoint } } });
  }

  /** Half-closes: the source stops sending; resolves when its stream has ended. */
  close(): Promise<void> {
    this.closing = true;
    return new Promise<void>((resolve) => {
      this.ended = () => {
        this.client?.close();
        resolve();
      };
      if (!this.stream) this.ended();
      else this.stream.end();
    });
  }

  abort(): void {
    this.closing = true;
    this.dropUnsentCredits();
    this.stream?.cancel();
    this.stream = undefined;
    this.client?.close();
  }
}
