import { AckStatus } from "../gen/consumer_service/v1/consumer";
import type { WriteRequest } from "../gen/consumer_service/v2/consumer";
import { BatchLink, type LinkHooks, type LinkParts } from "./batch-link";
import type { Origin } from "./delivery";
import { grpcStreamOpener, type StreamOpener } from "./link-stream";
import type { RawBatch } from "./raw-batch";
import {
  type ConsumerAnswer,
  decodeWriteResponse,
  encodeWriteRequest,
  type LinkRequest,
} from "./stream-codecs";

export interface ConsumerHooks extends LinkHooks {
  /** The consumer wrote a delivery: it is durable (see ACK_STATUS_WRITTEN in the contract). */
  onWritten(origins: Origin[], batch: RawBatch): void;
}

/** The Write stream of consumer_service (the negotiated major) over gRPC; batches cross it as bytes (stream-codecs.ts). */
export const consumerStreams: StreamOpener<LinkRequest<WriteRequest>, ConsumerAnswer> = grpcStreamOpener(
  "consumer",
  encodeWriteRequest,
  decodeWriteResponse,
);

/**
 * The Write stream to one consumer stage. On the direct data path a batch may be a reference; one
 * the consumer failed comes back with its events (returned), which the retry or the dead letters
 * then carry through Core.
 */
export class ConsumerLink extends BatchLink<WriteRequest, ConsumerAnswer> {
  constructor(
    parts: LinkParts<WriteRequest, ConsumerAnswer>,
    private readonly consumerHooks: ConsumerHooks,
  ) {
    super(parts, consumerHooks);
  }

  protected onResponse(response: ConsumerAnswer): void {
    if (response.response?.$case !== "ack") return;
    const ack = response.response.value;
    const delivery = this.answer(ack.sequence);
    if (!delivery) return;
    if (ack.refMissing) {
      this.refLost(ack.sequence, delivery);
      return;
    }
    const failed = ack.status !== AckStatus.ACK_STATUS_WRITTEN;
    if (failed && !this.takeReturned(ack.sequence, delivery, ack.returned, "BatchAck.returned")) return;
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
