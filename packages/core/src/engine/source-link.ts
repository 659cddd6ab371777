import { status } from "@grpc/grpc-js";
import type { Logger } from "pino";
import type { NegotiatedContract } from "../clients/family-contracts";
import type { PipelineStage } from "../config/pipeline-model";
import type { Peer } from "../gen/peer/v1/peer";
import type { ReadRequest } from "../gen/source_service/v2/source";
import { endpointMajor, grpcStreamOpener, type OpenedStream, type StreamOpener } from "./link-stream";
import type { RawBatch } from "./raw-batch";
import { DIRECT_PATH_MAJOR } from "./reference-batch";
import type { Checkpointed } from "./source-ledger";
import { decodeReadResponse, encodeReadRequest, type SourceMessage } from "./stream-codecs";

export interface SourceHooks {
  onBatch(sequence: bigint, batch: RawBatch, checkpoint: Checkpointed): void;
  /** A finite source has sent everything. */
  onExhausted(): void;
  /**
   * The stream broke: the service died or went away, or (permanent) it ended the stream with
   * FAILED_PRECONDITION, saying that restarting it would not help.
   */
  onBroken(reason: string, permanent: boolean): void;
}

/**
 * The Read stream of source_service (the negotiated major) over gRPC; batches arrive as bytes
 * (stream-codecs.ts). Requests go through v2's generated codec, whose bytes v1 reads the same (a
 * v1 stream is never given peers, the one field v1 lacks).
 */
export const sourceStreams: StreamOpener<ReadRequest, SourceMessage> = grpcStreamOpener(
  "source",
  encodeReadRequest,
  decodeReadResponse,
);

export interface SourceLinkParts {
  stage: PipelineStage;
  endpoint: { readonly target: string; readonly contract?: NegotiatedContract; readonly bundles?: boolean };
  openStream: StreamOpener<ReadRequest, SourceMessage>;
  logger: Logger;
  /** The largest encoded EventBatch Core takes from the source (negotiated; ReadStart.max_batch_bytes). */
  maxBatchBytes: number;
  /**
   * The stages the source pushes its batches to on the direct data path, asked for each stream it
   * opens (ReadStart.peers, v2 streams only); none when absent (see direct-edges.ts).
   */
  peers?: () => Peer[];
}

/** The Read stream to one source stage: credits go up, batches with checkpoints come down. */
export class SourceLink {
  readonly stage: PipelineStage;
  private opened: OpenedStream<ReadRequest, SourceMessage> | undefined;
  private ended: (() => void) | undefined;
  private closing = false;

  constructor(
    private readonly parts: SourceLinkParts,
    private readonly hooks: SourceHooks,
  ) {
    this.stage = parts.stage;
  }

  private get stream() {
    return this.opened?.stream;
  }

  /** The contract the stream speaks (negotiated); its batches are of its major. */
  get contract(): NegotiatedContract | undefined {
    return this.parts.endpoint.contract;
  }

  /** Opens a Read stream resuming after `checkpoint` (undefined: from the beginning). */
  open(checkpoint: Checkpointed | undefined, credits: number): void {
    this.closing = false;
    this.dropUnsentCredits();
    this.opened?.close();
    const { endpoint } = this.parts;
    const major = endpointMajor(endpoint);
    const bundles = endpoint.bundles === true;
    const opened = this.parts.openStream(endpoint.target, major, bundles);
    this.opened = opened;
    const { stream } = opened;
    stream.on("data", (message: SourceMessage) => {
      if (this.opened !== opened) return;
      if (message.kind === "batch") this.hooks.onBatch(message.sequence, message.batch, message.checkpoint);
      else if (message.kind === "exhausted") this.hooks.onExhausted();
    });
    const broken = (reason: string, permanent = false): void => {
      if (this.opened !== opened) return;
      this.opened = undefined;
      if (this.closing) {
        opened.close();
        this.ended?.();
        return;
      }
      this.hooks.onBroken(reason, permanent);
    };
    stream.on("error", (error) =>
      error.code === status.FAILED_PRECONDITION
        ? broken(error.details || error.message, true)
        : broken(`stream failed: ${error.details || error.message}`),
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
          maxBatchBytes: BigInt(this.parts.maxBatchBytes),
          lingerMs,
          stageId: this.stage.id,
          peers: major === DIRECT_PATH_MAJOR ? (this.parts.peers?.() ?? []) : [],
          acceptsBundles: bundles,
        },
      },
    });
    this.parts.logger.debug(
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
        this.opened?.close();
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
    this.opened?.close();
    this.opened = undefined;
  }
}
