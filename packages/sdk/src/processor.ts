import * as grpc from "@grpc/grpc-js";
import type { ContractVersion } from "./component";
import {
  type ComponentInfo,
  checkConfig,
  componentHandlers,
  issuesText,
  statusError,
} from "./component-handlers";
import { ConfigValidator } from "./config-validator";
import type { EncodedInput } from "./encoded-batches";
import type { EventMajor } from "./event-conversion";
import { refusedEventsOf } from "./event-wire";
import type { FlowEvent } from "./flow-event";
import type {
  ProcessedBatch,
  ProcessRequest as ProcessRequestMessage,
  ProcessResponse,
} from "./gen/processor_service/v1/processor";
import { PermanentError } from "./service-errors";
import type { ServiceServer } from "./service-server";

/** A per-event result meaning "this event cannot be processed": it becomes a dead letter. */
export interface DeadLetterVerdict {
  deadLetter: string;
}

export function deadLetter(reason: string): DeadLetterVerdict {
  return { deadLetter: reason };
}

/** Events to pass on (one, several, or none to drop it), or a dead letter. */
export type EventResult = FlowEvent | FlowEvent[] | null | undefined | DeadLetterVerdict;

export interface BatchResult {
  events: FlowEvent[];
  deadLetters?: { event: FlowEvent; reason: string }[];
}

export interface ProcessorDefinition<Config, State = Config> extends ComponentInfo<Config> {
  /** Prepares a configuration once per stream (compile an expression, open a lookup table...). */
  setup?(config: Config): State | Promise<State>;
  /** A function of one event. A throw turns that event into a dead letter; the stream goes on. */
  process?(event: FlowEvent, state: State): EventResult | Promise<EventResult>;
  /**
   * A function of the encoded batch, for processors that never read events (forwarding, routing
   * or sampling whole batches): no event is decoded or encoded. `batch` is as the stream carries
   * it, in the event major `major`: an event v1 EventBatch (1) or an event v2 CloudEventBatch (2,
   * the CloudEvents Protobuf Format). Returns the batch to pass on, encoded in that same major. A
   * throw fails the batch (retried unless PermanentError).
   */
  processEncoded?(batch: Uint8Array, state: State, major: EventMajor): Uint8Array | Promise<Uint8Array>;
  /** A function of a whole batch, instead of `process`. A throw fails the batch (retried unless PermanentError). */
  processBatch?(events: FlowEvent[], state: State): BatchResult | Promise<BatchResult>;
}

/** Why an event v2 a processor cannot read becomes a dead letter (its own reason follows). */
export const REFUSED_BY_V1 =
  "the processor reads events as FlowEvent (event v1), which cannot carry this one";

/** A ProcessRequest as the generated codec decodes it, or a batch kept as bytes (encoded-batches.ts). */
interface ProcessRequest {
  request?: ProcessRequestMessage["request"] | EncodedInput["request"];
}

/**
 * The gRPC implementation of processor_service at `contract.major` for a definition: at v2 the
 * definition's codec hands it FlowEvents (event-wire.ts), and the input events FlowEvent cannot
 * carry come back as dead letters.
 */
export function processorImplementation<Config, State = Config>(
  definition: ProcessorDefinition<Config, State>,
  contract: ContractVersion,
  server: Pick<ServiceServer, "trackDrain" | "isStopping" | "maxMessageBytes">,
  /** Every contract the service serves (Describe lists them all); `contract` by default. */
  served: ContractVersion[] = [contract],
): grpc.UntypedServiceImplementation {
  if (!definition.process && !definition.processBatch && !definition.processEncoded) {
    throw new Error(`processor ${definition.name} defines none of process, processBatch or processEncoded`);
  }
  const validator = new ConfigValidator<Config>(definition.configSchema);
  const runBatch = async (
    events: FlowEvent[],
    state: State,
  ): Promise<Omit<ProcessedBatch, "inputSequence">> => {
    if (definition.processBatch) {
      try {
        const result = await definition.processBatch(events, state);
        return { batch: { events: result.events }, deadLetters: result.deadLetters ?? [] };
      } catch (error) {
        const reason = (error as Error).message;
        return {
          batch: { events: [] },
          deadLetters: [],
          failure: { reason, retryable: !(error instanceof PermanentError) },
        };
      }
    }
    const out: FlowEvent[] = [];
    const deadLetters: { event: FlowEvent; reason: string }[] = [];
    for (const event of events) {
      try {
        const result = await definition.process?.(event, state);
        if (result === null || result === undefined) continue;
        if (Array.isArray(result)) out.push(...result);
        else if ("deadLetter" in result) deadLetters.push({ event, reason: result.deadLetter });
        else out.push(result);
      } catch (error) {
        deadLetters.push({ event, reason: (error as Error).message || String(error) });
      }
    }
    return { batch: { events: out }, deadLetters };
  };

  const Process: grpc.handleBidiStreamingCall<ProcessRequest, ProcessResponse> = (call) => {
    // `started`, not `state !== undefined`: a setup may legitimately return nothing.
    let started = false;
    let state: State | undefined;
    let chain: Promise<void> = Promise.resolve();
    let failed = false;
    let draining = false;
    let ended = false;
    // Ends the call (once) after every batch received so far has been answered.
    const settle = (): Promise<void> =>
      chain.then(() => {
        if (ended) return;
        ended = true;
        untrack();
        call.end();
      });
    // A graceful stop takes no new batch and answers every batch already received.
    const untrack = server.trackDrain(() => {
      draining = true;
      return settle();
    });
    const fail = (code: grpc.status, details: string): void => {
      if (ended) return;
      failed = true;
      ended = true;
      untrack();
      call.emit("error", statusError(code, details));
    };
    call.on("data", (message: ProcessRequest) => {
      const request = message.request;
      if (failed || draining || !request) return;
      if (request.$case === "start") {
        chain = chain.then(async () => {
          const { configJson, stageId } = request.value;
          const { config, issues } = await checkConfig(definition, validator, configJson, {
            validateOnly: false,
            stageId,
          });
          if (config === undefined)
            return fail(grpc.status.INVALID_ARGUMENT, `invalid configuration: ${issuesText(issues)}`);
          state = definition.setup ? await definition.setup(config) : (config as unknown as State);
          started = true;
        });
      } else if (request.$case === "encoded") {
        const { sequence, batch } = request.value;
        chain = chain.then(async () => {
          if (failed) return;
          if (!started)
            return fail(
              grpc.status.FAILED_PRECONDITION,
              "the first message of a Process stream must be start",
            );
          try {
            const output = await (definition.processEncoded as NonNullable<typeof definition.processEncoded>)(
              batch,
              state as State,
              contract.major as EventMajor,
            );
            call.write({ encoded: { inputSequence: sequence, batch: output } } as never);
          } catch (error) {
            const failure = {
              reason: (error as Error).message,
              retryable: !(error instanceof PermanentError),
            };
            call.write({
              response: {
                $case: "batch",
                value: { inputSequence: sequence, batch: { events: [] }, deadLetters: [], failure },
              },
            });
          }
        });
      } else {
        const { sequence, batch } = request.value;
        chain = chain.then(async () => {
          if (failed) return;
          if (!started)
            return fail(
              grpc.status.FAILED_PRECONDITION,
              "the first message of a Process stream must be start",
            );
          const answer = await runBatch(batch?.events ?? [], state as State);
          const refused = refusedEventsOf(request.value);
          // A failed batch is retried whole; its refused events are refused again then.
          if (!answer.failure && refused.length > 0)
            answer.deadLetters = [
              ...answer.deadLetters,
              ...refused.map(({ event, reason }) => ({ event, reason: `${REFUSED_BY_V1}: ${reason}` })),
            ];
          call.write({ response: { $case: "batch", value: { inputSequence: sequence, ...answer } } });
        });
      }
      chain = chain.catch((error: Error) => fail(grpc.status.INTERNAL, `processor failed: ${error.message}`));
    });
    call.on("end", () => void settle());
    call.on("cancelled", () => {
      failed = true;
      ended = true;
      untrack();
    });
  };

  return {
    ...componentHandlers(definition, "processor", served, validator, server.maxMessageBytes),
    Process,
  };
}
