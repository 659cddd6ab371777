import { AckStatus, type WriteRequest, WriteResponse } from "../gen/consumer_service/v1/consumer";
import { BatchLink, type LinkHooks, type LinkParts } from "./batch-link";
import type { Origin } from "./delivery";
import { grpcStreamOpener, type StreamOpener } from "./link-stream";
import type { RawBatch } from "./raw-batch";
import { encodeWriteRequest, type LinkRequest } from "./stream-codecs";

export interface ConsumerHooks extends LinkHooks {
  /** The consumer wrote a delivery: it is durable (see ACK_STATUS_WRITTEN in the contract). */
  onWritten(origins: Origin[], batch: RawBatch): void;
}

/** The Write stream of consumer_service (the negotiated major) over gRPC; batches cross it as bytes (stream-codecs.ts). */
export const consumerStreams: StreamOpener<LinkRequest<WriteRequest>, WriteResponse> = grpcStreamOpener(
  "consumer",
  encodeWriteRequest,
  (frame: Buffer) => WriteResponse.decode(frame),
);

/** The Write stream to one consumer stage. */
export class ConsumerLink extends BatchLink<WriteRequest, WriteResponse> {
  constructor(
    parts: LinkParts<WriteRequest, WriteResponse>,
    private readonly consumerHooks: ConsumerHooks,
  ) {
    super(parts, consumerHooks);
  }

  protected onResponse(response: WriteResponse): void {
    if (response.response?.$case !== "ack") return;
    const ack = response.response.value;
    const delivery = this.answer(ack.sequence);
    if (!delivery) return;
    switch (ack.status) {
      case AckStatus.ACK_STATUS_WRITTEN:
        this.consumerHooks.onWritten(delivery.origins, delivery.batch);
        break;
      case AckStatus.ACK_STATUS_PERMANENT_FAILURE:
        this.consumerHooks.onGiveUp(delivery, ack.reason || "permanent failure");
        break;
      default:
        this.retry(delivery, ack.reason || "retryable failure");
    }
    this.settleIfClosing();
  }
}
