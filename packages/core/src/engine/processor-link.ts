import type * as grpc from "@grpc/grpc-js";
import type { FlowEvent } from "@flow/sdk";
import type { Logger } from "pino";
import { processorClient } from "../clients/service-clients";
import type { ServiceEndpoint } from "../discovery/service-endpoint";
import type { Event } from "../gen/event/v1/event";
import type { ProcessorServiceClient, ProcessRequest, ProcessResponse } from "../gen/processor_service/v1/processor";
import { BatchLink, type Delivery, type LinkHooks, type Origin } from "./batch-link";
import type { StagePlan } from "./run-plan";

export interface ProcessorHooks extends LinkHooks {
  /** The processor answered a delivery: pass `events` on, dead-letter `deadLetters`. */
  onOutput(origin: Origin, events: FlowEvent[], deadLetters: { event: FlowEvent; reason: string }[]): void;
}

/** The Process stream to one processor stage. */
export class ProcessorLink extends BatchLink<ProcessRequest, ProcessResponse> {
  constructor(
    stage: StagePlan,
    endpoint: ServiceEndpoint,
    private readonly processorHooks: ProcessorHooks,
    logger: Logger,
  ) {
    super(stage, endpoint, processorHooks, logger);
  }

  protected createClient(target: string): grpc.Client {
    return processorClient(target);
  }

  protected openCall(client: grpc.Client): grpc.ClientDuplexStream<ProcessRequest, ProcessResponse> {
    return (client as ProcessorServiceClient).process();
  }

  protected startMessage(): ProcessRequest {
    return { request: { $case: "start", value: { configJson: JSON.stringify(this.stage.config ?? {}), stageId: this.stage.id } } };
  }

  protected batchMessage(sequence: bigint, events: FlowEvent[]): ProcessRequest {
    return { request: { $case: "batch", value: { sequence, batch: { events: events as Event[] } } } };
  }

  protected onResponse(response: ProcessResponse): void {
    if (response.response?.$case !== "batch") return;
    const answer = response.response.value;
    const delivery: Delivery | undefined = this.answer(answer.inputSequence);
    if (!delivery) {
      this.logger.warn({ stage: this.stage.id, sequence: answer.inputSequence }, "processor answered an unknown batch");
      return;
    }
    if (answer.failure) {
      if (answer.failure.retryable) this.retry(delivery, answer.failure.reason);
      else this.processorHooks.onGiveUp(delivery, answer.failure.reason);
    } else {
      this.processorHooks.onOutput(
        delivery.origin,
        (answer.batch?.events ?? []) as FlowEvent[],
        answer.deadLetters.map((letter) => ({ event: letter.event as FlowEvent, reason: letter.reason })),
      );
    }
    this.settleIfClosing();
  }
}
