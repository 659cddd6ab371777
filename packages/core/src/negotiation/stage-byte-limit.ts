import { FLOW_CHANNEL_OPTIONS, GRPC_DEFAULT_MAX_MESSAGE_BYTES } from "@flow/sdk/internal";
import type { PipelineStage } from "../config/pipeline-model";
import { BATCH_REQUEST_FRAMING_BYTES } from "../engine/stream-codecs";
import type { ComponentDescriptor } from "../gen/component/v1/component";

/**
 * How large a stage's batches may be, in bytes, once negotiation has heard the service.
 *
 * A processor or consumer says in Describe the largest request it accepts
 * (`Limits.max_message_bytes`, component 1.1.0). A service that says nothing (0: built before the
 * field, or not by the SDK) is taken to accept gRPC's default receive limit, 4 MiB: every gRPC
 * implementation starts there, so it is safe, while assuming the 64 MiB Flow's own servers set
 * would break an older Python or Go service at the first large batch. A source's batches come the
 * other way, so what bounds them is Core's own receive limit.
 */
export interface StageByteLimit {
  /** The largest message that crosses to the service (processors, consumers) or from it (sources). */
  messageBytes: number;
  /** Where messageBytes comes from. */
  messageFrom: "announced" | "assumed" | "core";
  /** The largest encoded EventBatch Core sends the stage, or asks a source for: min(batch.maxBytes, messageBytes - framing). */
  batchBytes: number;
  /** Which bound decided batchBytes: the stage's own setting or the message limit. */
  boundBy: "batch.maxBytes" | "message";
}

/** The most Core's channels accept from a service (sources' batches arrive under it). */
export const CORE_MAX_RECEIVE_BYTES = FLOW_CHANNEL_OPTIONS["grpc.max_receive_message_length"] as number;

/**
 * Room a source's batch leaves in its ReadResponse for the rest of the message: the framing (at
 * most 23 bytes, as for requests) and the checkpoint, which the source chooses; 1 MiB of room is
 * far more than any checkpoint Flow's sources write (a few dozen bytes).
 */
export const SOURCE_BATCH_RESERVE_BYTES = 1024 * 1024;

export function stageByteLimit(
  stage: PipelineStage,
  descriptor: ComponentDescriptor | undefined,
): StageByteLimit {
  const configured = stage.settings.batch.maxBytes;
  if (stage.family === "source") {
    return bounded(
      configured,
      CORE_MAX_RECEIVE_BYTES,
      "core",
      CORE_MAX_RECEIVE_BYTES - SOURCE_BATCH_RESERVE_BYTES,
    );
  }
  const announced = Number(descriptor?.limits?.maxMessageBytes ?? 0n);
  const messageBytes = announced > 0 ? announced : GRPC_DEFAULT_MAX_MESSAGE_BYTES;
  return bounded(
    configured,
    messageBytes,
    announced > 0 ? "announced" : "assumed",
    Math.max(0, messageBytes - BATCH_REQUEST_FRAMING_BYTES),
  );
}

function bounded(
  configured: number,
  messageBytes: number,
  messageFrom: StageByteLimit["messageFrom"],
  fromMessage: number,
): StageByteLimit {
  return configured <= fromMessage
    ? { messageBytes, messageFrom, batchBytes: configured, boundBy: "batch.maxBytes" }
    : { messageBytes, messageFrom, batchBytes: fromMessage, boundBy: "message" };
}

/** The dead-letter reason for an event no batch of the stage can carry: its size, the limit and why. */
export function oversizedEventReason(
  stage: PipelineStage,
  eventBytes: number,
  limit: StageByteLimit,
): string {
  const why =
    limit.boundBy === "batch.maxBytes"
      ? `its batch.maxBytes; raise it to take the event`
      : limit.messageFrom === "announced"
        ? `the service accepts messages of at most ${limit.messageBytes} bytes; raise its receive limit to take the event`
        : limit.messageFrom === "assumed"
          ? `the service announces no message limit, so gRPC's default of ${limit.messageBytes} bytes is assumed; a service that announces Limits.max_message_bytes can take more`
          : `Core accepts messages of at most ${limit.messageBytes} bytes`;
  return `event too large: ${eventBytes} bytes encoded, and ${stage.family} "${stage.id}" takes batches of at most ${limit.batchBytes} bytes (${why})`;
}
