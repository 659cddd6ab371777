import { FLOW_CHANNEL_OPTIONS } from "@flow/sdk";
import * as grpc from "@grpc/grpc-js";
import type { Logger } from "pino";
import type { ServiceEndpoint } from "../discovery/service-endpoint";
import {
  AckStatus,
  ConsumerServiceService,
  type WriteRequest,
  WriteResponse,
} from "../gen/consumer_service/v1/consumer";
import { BatchLink, type LinkHooks, type Origin } from "./batch-link";
import type { BatchLimit, RawBatch } from "./raw-batch";
import type { StagePlan } from "./run-plan";
import { encodeWriteRequest, type LinkRequest } from "./stream-codecs";

export interface ConsumerHooks extends LinkHooks {
  /** The consumer wrote a delivery. */
  onWritten(origins: Origin[], batch: RawBatch): void;
}

/** The Write stream to one consumer stage; batches cross it as bytes (stream-codecs.ts). */
export class ConsumerLink extends BatchLink<LinkRequest<WriteRequest>, WriteResponse> {
  constructor(
    stage: StagePlan,
    endpoint: ServiceEndpoint,
    private readonly consumerHooks: ConsumerHooks,
    logger: Logger,
    limit: BatchLimit,
  ) {
    super(stage, endpoint, consumerHooks, logger, limit);
  }

  protected createClient(target: string): grpc.Client {
    return new grpc.Client(target, grpc.credentials.createInsecure(), FLOW_CHANNEL_OPTIONS);
  }

  protected openCall(client: grpc.Client): grpc.ClientDuplexStream<LinkRequest<WriteRequest>, WriteResponse> {
    return client.makeBidiStreamRequest(
      ConsumerServiceService.write.path,
      encodeWriteRequest,
      (frame: Buffer) => WriteResponse.decode(frame),
    );
  }

  protected startMessage(): LinkRequest<WriteRequest> {
    return {
      start: {
        request: {
          $case: "start",
          value: { configJson: JSON.stringify(this.stage.config ?? {}), stageId: this.stage.id },
        },
      },
    };
  }

  protected batchMessage(sequence: bigint, batch: RawBatch): LinkRequest<WriteRequest> {
    return { sequence, batch };
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
