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
import type { EncodedInput } from "./encoded-batches";
import type { EventMajor } from "./event-conversion";
import { readBatchBytes, refusedEventsOf } from "./event-wire";
import type { FlowEvent } from "./flow-event";
import type { Peer, PeerRef } from "./gen/peer/v1/peer";
import type {
  BatchFailure,
  ProcessedBatch,
  ProcessRequest as ProcessRequestMessage,
  ProcessResponse,
} from "./gen/processor_service/v1/processor";
import type { ProcessedBatch as ProcessedBatchV2 } from "./gen/processor_service/v2/processor";
import { ingestHandler } from "./ingest-handler";
import { cloudEventCount } from "./peer-batch-frame";
import { REF_MISSING } from "./peer-inbox";
import { PeerOutbox } from "./peer-outbox";
import { PermanentError } from "./service-errors";
import { serviceWarnings } from "./service-logger";
import type { ServiceServer } from "./service-server";
import { lengthDelimitedTag, withSplicedFields } from "./spliced-fields";

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
 * A ProcessedBatch as the handlers write it: v1's shape (events as FlowEvent, converted at the wire
 * at v2) with the direct data path's fields of processor_service v2.1 (`returned` is spliced in as
 * bytes: RETURNED).
 */
type Answer = ProcessedBatch &
  Pick<Partial<ProcessedBatchV2>, "outputRef" | "outputCount" | "outputBytes" | "refMissing">;

/** ProcessedBatch.batch = 2 and .returned = 8 (processor_service v2.1), spliced in as bytes. */
const BATCH = lengthDelimitedTag(2);
const RETURNED = lengthDelimitedTag(8);

/** The answer to an input that came by `ref` and whose events never arrived (Core reads them again). */
function refMissing(inputSequence: bigint): Answer {
  return { inputSequence, deadLetters: [], refMissing: true };
}

/** A failed answer, with the input that came by `ref` returned to Core (its bytes) so Core can retry it. */
function failed(inputSequence: bigint, failure: BatchFailure, input: Uint8Array | undefined): Answer {
  const answer: Answer = { inputSequence, batch: { events: [] }, deadLetters: [], failure };
  return input ? withSplicedFields(answer, [{ tag: RETURNED, bytes: input }]) : answer;
}

/**
 * The gRPC implementation of processor_service at `contract.major` for a definition: at v2 the
 * definition's codec hands it FlowEvents (event-wire.ts), and the input events FlowEvent cannot
 * carry come back as dead letters. At v2 it takes part in the direct data path (direct-path.ts):
 * it serves Ingest, takes an input that comes by `ref` from what was pushed there, and pushes its
 * outputs to the peers ProcessStart names (peer-outbox.ts).
 */
export function processorImplementation<Config, State = Config>(
  definition: ProcessorDefinition<Config, State>,
  contract: ContractVersion,
  server: Pick<ServiceServer, "trackDrain" | "isStopping" | "maxMessageBytes" | "peerInbox">,
  /** Every contract the service serves (Describe lists them all); `contract` by default. */
  served: ContractVersion[] = [contract],
  options: DirectPathOption = {},
): grpc.UntypedServiceImplementation {
  if (!definition.process && !definition.processBatch && !definition.processEncoded) {
    throw new Error(`processor ${definition.name} defines none of process, processBatch or processEncoded`);
  }
  const validator = new ConfigValidator<Config>(definition.configSchema);
  const direct = directPathOn(contract.major, options);
  const warn = serviceWarnings(definition.name);
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

  /** A successful answer: its events pushed to the peers when they take them, else as they are. */
  const answerWithOutput = async (
    inputSequence: bigint,
    output: Omit<ProcessedBatch, "inputSequence">,
    outbox: PeerOutbox | undefined,
  ): Promise<Answer> => {
    const events = output.batch?.events ?? [];
    if (!outbox?.admits(events.length)) return { inputSequence, ...output };
    const { deadLetters } = output;
    const outcome = await outbox.pushEvents(events);
    if (outcome.pushed) {
      const { ref, count, bytes } = outcome.pushed;
      return { inputSequence, deadLetters, outputRef: ref, outputCount: count, outputBytes: BigInt(bytes) };
    }
    // Too large for a peer: to Core, as the bytes it was already encoded to.
    if (outcome.encoded)
      return withSplicedFields({ inputSequence, deadLetters }, [{ tag: BATCH, bytes: outcome.encoded }]);
    return { inputSequence, ...output };
  };

  const Process: grpc.handleBidiStreamingCall<ProcessRequest, ProcessResponse> = (call) => {
    // `started`, not `state !== undefined`: a setup may legitimately return nothing.
    let started = false;
    let state: State | undefined;
    let chain: Promise<void> = Promise.resolve();
    let failedStream = false;
    let draining = false;
    let ended = false;
    const inbox = inboxReader(server.peerInbox, direct);
    let outbox: PeerOutbox | undefined;
    const answer = (value: Answer): void => {
      call.write({ response: { $case: "batch", value } });
    };
    // The stream is over: no drain to wait for, nothing more to take or push.
    const over = (): void => {
      untrack();
      inbox.close();
      outbox?.end();
    };
    // Ends the call (once) after every batch received so far has been answered.
    const settle = (): Promise<void> =>
      chain.then(() => {
        if (ended) return;
        ended = true;
        over();
        call.end();
      });
    // A graceful stop takes no new batch and answers every batch already received.
    const untrack = server.trackDrain(() => {
      draining = true;
      return settle();
    });
    const fail = (code: grpc.status, details: string): void => {
      if (ended) return;
      failedStream = true;
      ended = true;
      over();
      call.emit("error", statusError(code, details));
    };
    const notStarted = (): void =>
      fail(grpc.status.FAILED_PRECONDITION, "the first message of a Process stream must be start");
    call.on("data", (message: ProcessRequest) => {
      const request = message.request;
      if (failedStream || draining || !request) return;
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
          // processor_service v2.1: the stages every output goes to, on the direct data path.
          const peers = (request.value as { peers?: Peer[] }).peers ?? [];
          if (direct && peers.length > 0 && !outbox)
            outbox = new PeerOutbox(peers, (warning) => warn(warning, { stageId }));
        });
      } else if (request.$case === "encoded") {
        const { sequence, batch, ref } = request.value;
        chain = chain.then(async () => {
          if (failedStream) return;
          if (!started) return notStarted();
          const input = ref ? await inbox.take(ref) : batch;
          if (failedStream) return;
          if (input === REF_MISSING) return answer(refMissing(sequence));
          const returned = ref ? input : undefined;
          let output: Uint8Array;
          try {
            output = await (definition.processEncoded as NonNullable<typeof definition.processEncoded>)(
              input,
              state as State,
              contract.major as EventMajor,
            );
          } catch (error) {
            const reason = (error as Error).message;
            return answer(
              failed(sequence, { reason, retryable: !(error instanceof PermanentError) }, returned),
            );
          }
          const pushed = outbox?.pushing
            ? await outbox.pushEncoded(output, cloudEventCount(output))
            : undefined;
          if (pushed)
            return answer({
              inputSequence: sequence,
              deadLetters: [],
              outputRef: pushed.ref,
              outputCount: pushed.count,
              outputBytes: BigInt(pushed.bytes),
            });
          call.write({ encoded: { inputSequence: sequence, batch: output } } as never);
        });
      } else {
        const value = request.value;
        const { sequence } = value;
        // processor_service v2.1: the events come by reference, pushed to Ingest.
        const ref = (value as { ref?: PeerRef }).ref;
        chain = chain.then(async () => {
          if (failedStream) return;
          if (!started) return notStarted();
          const input = ref ? await inbox.take(ref) : undefined;
          if (failedStream) return;
          if (input === REF_MISSING) return answer(refMissing(sequence));
          if (input) {
            try {
              readBatchBytes(value, input);
            } catch (error) {
              const reason = `the batch pushed under ${ref?.stream}/${ref?.handle} is not a CloudEventBatch: ${(error as Error).message}`;
              return answer(failed(sequence, { reason, retryable: false }, input));
            }
          }
          const output = await runBatch(value.batch?.events ?? [], state as State);
          if (output.failure) return answer(failed(sequence, output.failure, input));
          const refused = refusedEventsOf(value);
          // A failed batch is retried whole; its refused events are refused again then.
          if (refused.length > 0)
            output.deadLetters = [
              ...output.deadLetters,
              ...refused.map(({ event, reason }) => ({ event, reason: `${REFUSED_BY_V1}: ${reason}` })),
            ];
          answer(await answerWithOutput(sequence, output, outbox));
        });
      }
      chain = chain.catch((error: Error) => fail(grpc.status.INTERNAL, `processor failed: ${error.message}`));
    });
    call.on("end", () => void settle());
    call.on("cancelled", () => {
      failedStream = true;
      ended = true;
      over();
    });
  };

  return {
    ...componentHandlers(
      definition,
      "processor",
      served,
      validator,
      server.maxMessageBytes,
      direct,
      bundlesAt(contract.major),
    ),
    Process,
    ...(direct ? { Ingest: ingestHandler(server.peerInbox) } : {}),
  };
}
