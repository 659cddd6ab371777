import { FLOW_CHANNEL_OPTIONS, type FlowEvent } from "@flow/sdk";
import * as grpc from "@grpc/grpc-js";
import type { Logger } from "pino";
import type { ServiceEndpoint } from "../discovery/service-endpoint";
import { ProcessorServiceService, type ProcessRequest } from "../gen/processor_service/v1/processor";
import { BatchLink, type Delivery, type LinkHooks, type Origin } from "./batch-link";
import type { BatchLimit, RawBatch } from "./raw-batch";
import type { StagePlan } from "./run-plan";
import {
  decodeProcessResponse,
  encodeProcessRequest,
  type LinkRequest,
  type ProcessorAnswer,
} from "./stream-codecs";

export interface ProcessorHooks extends LinkHooks {
  /** The processor answered a delivery: pass `batch` on, dead-letter `deadLetters`. */
  onOutput(origins: Origin[], batch: RawBatch, deadLetters: { event: FlowEvent; reason: string }[]): void;
}

/** The Process stream to one processor stage; batches cross it as bytes (stream-codecs.ts). */
export class ProcessorLink extends BatchLink<LinkRequest<ProcessRequest>, ProcessorAnswer | undefined> {
  constructor(
    stage: StagePlan,
    endpoint: ServiceEndpoint,
    private readonly processorHooks: ProcessorHooks,
    logger: Logger,
    limit: BatchLimit,
  ) {
    super(stage, endpoint, processorHooks, logger, limit);
  }

  protected createClient(target: string): grpc.Client {
    return new grpc.Client(target, grpc.credentials.createInsecure(), FLOW_CHANNEL_OPTIONS);
  }

  protected openCall(
    client: grpc.Client,
  ): grpc.ClientDuplexStream<LinkRequest<ProcessRequest>, ProcessorAnswer | undefined> {
    return client.makeBidiStreamRequest(
      ProcessorServiceService.process.path,
      encodeProcessRequest,
      decodeProcessResponse,
    );
  }

  protected startMessage(): LinkRequest<ProcessRequest> {
    return {
      start: {
        request: {
          $case: "start",
          value: { configJson: JSON.stringify(this.stage.config ?? {}), stageId: this.stage.id },
        },
      },
    };
  }

  protected batchMessage(sequence: bigint, batch: RawBatch): LinkRequest<ProcessRequest> {
    return { sequence, batch };
  }

  protected onResponse(answer: ProcessorAnswer | undefined): void {
    if (!answer) return;
    const delivery: Delivery | undefined = this.answer(answer.inputSequence);
    if (!delivery) return;
    if (answer.failure) {
      if (answer.failure.retryable) this.retry(delivery, answer.failure.reason);
      else this.processorHooks.onGiveUp(delivery, answer.failure.reason);
    } else {
      this.processorHooks.onOutput(delivery.origins, answer.batch, answer.deadLetters);
    }
    this.settleIfClosing();
  }
}
