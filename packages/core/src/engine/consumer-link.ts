import type * as grpc from "@grpc/grpc-js";
import type { FlowEvent } from "@flow/sdk";
import type { Logger } from "pino";
import { consumerClient } from "../clients/service-clients";
import type { ServiceEndpoint } from "../discovery/service-endpoint";
import { AckStatus, type ConsumerServiceClient, type WriteRequest, type WriteResponse } from "../gen/consumer_service/v1/consumer";
import type { Event } from "../gen/event/v1/event";
import { BatchLink, type LinkHooks, type Origin } from "./batch-link";
import type { StagePlan } from "./run-plan";

export interface ConsumerHooks extends LinkHooks {
  /** The consumer wrote a delivery. */
  onWritten(origin: Origin, events: number, first: FlowEvent | undefined): void;
}

/** The Write stream to one consumer stage. */
export class ConsumerLink extends BatchLink<WriteRequest, WriteResponse> {
  constructor(
    stage: StagePlan,
    endpoint: ServiceEndpoint,
    private readonly consumerHooks: ConsumerHooks,
    logger: Logger,
  ) {
    super(stage, endpoint, consumerHooks, logger);
  }

  protected createClient(target: string): grpc.Client {
    return consumerClient(target);
  }

  protected openCall(client: grpc.Client): grpc.ClientDuplexStream<WriteRequest, WriteResponse> {
    return (client as ConsumerServiceClient).write();
  }

  protected startMessage(): WriteRequest {
    return { request: { $case: "start", value: { configJson: JSON.stringify(this.stage.config ?? {}), stageId: this.stage.id } } };
  }

  protected batchMessage(sequence: bigint, events: FlowEvent[]): WriteRequest {
    return { request: { $case: "batch", value: { sequence, batch: { events: events as Event[] } } } };
  }

  protected onResponse(response: WriteResponse): void {
    if (response.response?.$case !== "ack") return;
    const ack = response.response.value;
    const delivery = this.answer(ack.sequence);
    if (!delivery) {
      this.logger.warn({ stage: this.stage.id, sequence: ack.sequence }, "consumer acknowledged an unknown batch");
      return;
    }
    switch (ack.status) {
      case AckStatus.ACK_STATUS_WRITTEN:
        this.consumerHooks.onWritten(delivery.origin, delivery.events.length, delivery.events[0]);
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
