import * as grpc from "@grpc/grpc-js";
import { bundlesAt } from "./bundle-frames";
import type { ContractVersion } from "./component";
import {
  type ComponentInfo,
  checkConfig,
  componentHandlers,
  issuesText,
  statusError,
} from "./component-handlers";
import { ConfigValidator } from "./config-validator";
import { type DirectPathOption, directPathOn, inboxReader } from "./direct-path";
import type { RefusedEvent } from "./event-conversion";
import { readBatchBytes, refusedEventsOf } from "./event-wire";
import type { FlowEvent } from "./flow-event";
import {
  AckStatus,
  type BatchAck,
  type WriteRequest,
  type WriteResponse,
} from "./gen/consumer_service/v1/consumer";
import type { BatchAck as BatchAckV2 } from "./gen/consumer_service/v2/consumer";
import type { PeerRef } from "./gen/peer/v1/peer";
import { ingestHandler } from "./ingest-handler";
import { REF_MISSING } from "./peer-inbox";
import { PermanentError, RetryableError } from "./service-errors";
import type { ServiceServer } from "./service-server";
import { lengthDelimitedTag, withSplicedFields } from "./spliced-fields";

/** What a consumer does with the batches of one stream. */
export interface ConsumerWriter {
  /**
   * Writes the batch and resolves only once it is durable: committed, fsynced or confirmed in the
   * consumer's system, so that it survives a crash or a power cut of its machine. The SDK answers
   * ACK_STATUS_WRITTEN the moment this resolves, and Core commits source checkpoints on WRITTEN
   * alone (consumer_service 1.0.1), after which the source's upstream may forget the events: a
   * batch lost after `write` resolved is lost for good. A writer that buffers makes the data
   * durable before resolving (or holds `write` back until its own flush has). Throw
   * PermanentError for data that can never be written (the batch is dead-lettered); anything
   * else thrown is retried.
   */
  write(events: FlowEvent[], context: { sequence: bigint }): void | Promise<void>;
  /**
   * Answers a Flush message (Flushed is sent after it resolves). Not a durability hook: Core never
   * sends Flush to make data durable, so nothing `write` resolved may wait for it.
   */
  flush?(): void | Promise<void>;
  /** Releases what the writer holds (the stream ended). */
  close?(): void | Promise<void>;
}

export interface ConsumerDefinition<Config> extends ComponentInfo<Config> {
  /** Opens a writer for a stream's configuration (connect, create the table...). */
  open?(config: Config, context: { stageId: string }): ConsumerWriter | Promise<ConsumerWriter>;
  /** Shorthand for a consumer that needs nothing opened: write one batch. */
  write?(events: FlowEvent[], config: Config): void | Promise<void>;
}

/**
 * Why a batch with events v2 FlowEvent cannot carry is a permanent failure: no retry makes them
 * fit, and writing the rest would pass the batch as written without them.
 */
export function refusedBatchReason(refused: readonly RefusedEvent[]): string {
  const [first] = refused;
  if (!first) return "";
  const more = refused.length > 1 ? ` (and ${refused.length - 1} more)` : "";
  return `event ${first.index} (id "${first.event.id}")${more} cannot be written: the consumer reads events as FlowEvent (event v1), which cannot carry it: ${first.reason}`;
}

/** A BatchAck as the handler writes it, with consumer_service v2.1's `ref_missing` (`returned` is spliced in: RETURNED). */
type Ack = BatchAck & Pick<Partial<BatchAckV2>, "refMissing">;

/** BatchAck.returned = 4 (consumer_service v2.1), spliced in as bytes. */
const RETURNED = lengthDelimitedTag(4);

/** A batch that came by `ref` and was not written goes back to Core (its bytes), for Core to retry or dead-letter. */
function returning(ack: Ack, input: Uint8Array | undefined): Ack {
  if (!input || ack.status === AckStatus.ACK_STATUS_WRITTEN) return ack;
  return withSplicedFields(ack, [{ tag: RETURNED, bytes: input }]);
}

/**
 * The gRPC implementation of consumer_service at `contract.major` for a definition: at v2 the
 * definition's codec hands it FlowEvents (event-wire.ts), and a batch holding an event FlowEvent
 * cannot carry is answered PERMANENT_FAILURE naming it, unwritten. At v2 it takes part in the
 * direct data path (direct-path.ts): it serves Ingest and takes a batch that comes by `ref` from
 * what was pushed there.
 */
export function consumerImplementation<Config>(
  definition: ConsumerDefinition<Config>,
  contract: ContractVersion,
  server: Pick<ServiceServer, "trackDrain" | "isStopping" | "maxMessageBytes" | "peerInbox">,
  /** Every contract the service serves (Describe lists them all); `contract` by default. */
  served: ContractVersion[] = [contract],
  options: DirectPathOption = {},
): grpc.UntypedServiceImplementation {
  if (!definition.open && !definition.write)
    throw new Error(`consumer ${definition.name} defines neither open nor write`);
  const validator = new ConfigValidator<Config>(definition.configSchema);
  const direct = directPathOn(contract.major, options);

  const Write: grpc.handleBidiStreamingCall<WriteRequest, WriteResponse> = (call) => {
    const inbox = inboxReader(server.peerInbox, direct);
    const ack = (value: Ack): void => {
      call.write({ response: { $case: "ack", value } });
    };
    let writer: ConsumerWriter | undefined;
    let chain: Promise<void> = Promise.resolve();
    let failed = false;
    let draining = false;
    let ended = false;
    let closing: Promise<void> | undefined;
    // Flush and close exactly once, whichever comes first: the client ending the stream, a
    // graceful stop, or a cancellation; a second close of a database handle would throw.
    const finish = (flush: boolean): Promise<void> => {
      closing ??= (async () => {
        const current = writer;
        if (!current) return;
        try {
          if (flush) await current.flush?.();
        } finally {
          await current.close?.();
        }
      })();
      return closing;
    };
    // The stream is over: no drain to wait for, nothing more to take.
    const over = (): void => {
      untrack();
      inbox.close();
    };
    const endCall = (): void => {
      if (ended) return;
      ended = true;
      over();
      call.end();
    };
    const fail = (code: grpc.status, details: string): void => {
      if (failed) return;
      failed = true;
      ended = true;
      over();
      call.emit("error", statusError(code, details));
      finish(false).catch(() => undefined);
    };
    // Ends the call once every batch received so far is written and acknowledged; a failing
    // flush or close fails the call instead of escaping as an unhandled rejection.
    let settled: Promise<void> | undefined;
    const settle = (): Promise<void> => {
      settled ??= chain
        .then(() => (failed ? finish(false) : finish(true)))
        .then(
          () => (failed ? undefined : endCall()),
          (error: Error) => fail(grpc.status.INTERNAL, `consumer failed to flush or close: ${error.message}`),
        );
      return settled;
    };
    // A graceful stop takes no new batch, acknowledges every batch already received, then ends the call.
    const untrack = server.trackDrain(() => {
      draining = true;
      return settle();
    });
    const enqueue = (step: () => Promise<void>): void => {
      chain = chain
        .then(() => (failed ? undefined : step()))
        .catch((error: Error) => fail(grpc.status.INTERNAL, error.message));
    };

    call.on("data", (message: WriteRequest) => {
      const request = message.request;
      if (failed || draining || !request) return;
      switch (request.$case) {
        case "start":
          return enqueue(async () => {
            const { configJson, stageId } = request.value;
            const { config, issues } = await checkConfig(definition, validator, configJson, {
              validateOnly: false,
              stageId,
            });
            if (config === undefined)
              return fail(grpc.status.INVALID_ARGUMENT, `invalid configuration: ${issuesText(issues)}`);
            writer = definition.open
              ? await definition.open(config, { stageId })
              : { write: (events) => definition.write?.(events, config) };
          });
        case "batch":
          return enqueue(async () => {
            if (!writer)
              return fail(
                grpc.status.FAILED_PRECONDITION,
                "the first message of a Write stream must be start",
              );
            const value = request.value;
            const { sequence } = value;
            // consumer_service v2.1: the events come by reference, pushed to Ingest.
            const ref = (value as { ref?: PeerRef }).ref;
            const input = ref ? await inbox.take(ref) : undefined;
            if (failed) return;
            if (input === REF_MISSING) {
              const reason = `the batch pushed under ${ref?.stream}/${ref?.handle} never arrived: its Ingest stream ended without it`;
              return ack({
                sequence,
                status: AckStatus.ACK_STATUS_RETRYABLE_FAILURE,
                reason,
                refMissing: true,
              });
            }
            if (input) {
              try {
                readBatchBytes(value, input);
              } catch (error) {
                const reason = `the batch pushed under ${ref?.stream}/${ref?.handle} is not a CloudEventBatch: ${(error as Error).message}`;
                return ack(
                  returning({ sequence, status: AckStatus.ACK_STATUS_PERMANENT_FAILURE, reason }, input),
                );
              }
            }
            const refused = refusedEventsOf(value);
            if (refused.length > 0) {
              const status = AckStatus.ACK_STATUS_PERMANENT_FAILURE;
              return ack(returning({ sequence, status, reason: refusedBatchReason(refused) }, input));
            }
            let status: AckStatus = AckStatus.ACK_STATUS_WRITTEN;
            let reason = "";
            try {
              await writer.write(value.batch?.events ?? [], { sequence });
            } catch (error) {
              reason = (error as Error).message || String(error);
              status =
                error instanceof PermanentError
                  ? AckStatus.ACK_STATUS_PERMANENT_FAILURE
                  : AckStatus.ACK_STATUS_RETRYABLE_FAILURE;
              if (!(error instanceof PermanentError) && !(error instanceof RetryableError))
                reason = `unexpected: ${reason}`;
            }
            ack(returning({ sequence, status, reason }, input));
          });
        case "flush":
          return enqueue(async () => {
            await writer?.flush?.();
            call.write({ response: { $case: "flushed", value: { token: request.value.token } } });
          });
      }
    });
    call.on("end", () => void settle());
    call.on("cancelled", () => {
      failed = true;
      ended = true;
      over();
      finish(false).catch(() => undefined);
    });
  };

  return {
    ...componentHandlers(
      definition,
      "consumer",
      served,
      validator,
      server.maxMessageBytes,
      direct,
      bundlesAt(contract.major),
    ),
    Write,
    ...(direct ? { Ingest: ingestHandler(server.peerInbox) } : {}),
  };
}
