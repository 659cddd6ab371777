import type { FlowEvent } from "@flow/sdk";
import type { ProcessRequest } from "../gen/processor_service/v2/processor";
import { BatchLink, type LinkHooks, type LinkParts } from "./batch-link";
import type { Origin } from "./delivery";
import { grpcStreamOpener, type StreamOpener } from "./link-stream";
import type { RawBatch } from "./raw-batch";
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

/** The Process stream of processor_service (the negotiated major) over gRPC; batches cross it as bytes (stream-codecs.ts). */
export const processorStreams: StreamOpener<
  LinkRequest<ProcessRequest>,
  ProcessorAnswer | undefined
> = grpcStreamOpener("processor", encodeProcessRequest, decodeProcessResponse);

/**
 * The Process stream to one processor stage. On the direct data path its inputs may be references
 * and its outputs too (output_ref); a failed input sent by reference comes back with its events
 * (returned), which the retry or the dead letters then carry through Core.
 */
export class ProcessorLink extends BatchLink<ProcessRequest, ProcessorAnswer | undefined> {
  constructor(
    parts: LinkParts<ProcessRequest, ProcessorAnswer | undefined>,
    private readonly processorHooks: ProcessorHooks,
  ) {
    super(parts, processorHooks);
  }

  protected onResponse(answer: ProcessorAnswer | undefined): void {
    if (!answer) return;
    const delivery = this.answer(answer.inputSequence);
    if (!delivery) return;
    if (answer.refMissing) {
      this.refLost(answer.inputSequence, delivery);
      return;
    }
    if (answer.failure) {
      if (!this.takeReturned(answer.inputSequence, delivery, answer.returned, "ProcessedBatch.returned"))
        return;
      if (answer.failure.retryable) this.retry(delivery, answer.failure.reason);
      else this.processorHooks.onGiveUp(delivery, answer.failure.reason);
    } else {
      this.processorHooks.onOutput(delivery.origins, answer.batch, answer.deadLetters);
    }
    this.settleIfClosing();
  }
}
