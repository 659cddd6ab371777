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
import { type DirectPathOption, directPathOn } from "./direct-path";
import { batchShareIn } from "./event-batch-share";
import type { EventMajor } from "./event-conversion";
import type { FlowEvent } from "./flow-event";
import type { Peer } from "./gen/peer/v1/peer";
import type { ReadRequest, ReadResponse, ReadStart, SourceBatch } from "./gen/source_service/v1/source";
import type { SourceBatch as SourceBatchV2 } from "./gen/source_service/v2/source";
import { PeerOutbox, type PushOutcome } from "./peer-outbox";
import { PermanentError } from "./service-errors";
import { serviceWarnings } from "./service-logger";
import type { ServiceServer } from "./service-server";
import { lengthDelimitedTag, withSplicedFields } from "./spliced-fields";
import { unlessAborted } from "./unless-aborted";

/** A batch a source emits, with the position that resumes right after it. */
export interface SourceOutput {
  events: FlowEvent[];
  checkpoint: { position: Buffer; description?: string };
}

export interface ReadContext {
  /** The committed position to resume after; undefined means from the beginning. */
  checkpoint: Buffer | undefined;
  /** The largest batch Core wants (0: the source decides). */
  maxBatchSize: number;
  /**
   * The largest batch Core wants in bytes of the encoded batch, in the stream's event major
   * (`eventMajor`: an EventBatch at 1, a CloudEventBatch at 2); 0: the source decides (a Core
   * older than source_service 1.1.0 never says). Cut batches to it as to maxBatchSize: a larger
   * one may exceed what Core accepts. `new BatchByteLimit(context)` does the counting.
   */
  maxBatchBytes: number;
  /**
   * The event major the stream carries (the source_service major Core speaks with this stage):
   * what maxBatchBytes counts. The source's events are FlowEvents either way; the SDK converts.
   */
  eventMajor: EventMajor;
  /** How long to wait to fill a batch, in milliseconds. */
  lingerMs: number;
  /**
   * The batches Core lets the source have unacknowledged at once (its stage's inFlight, the
   * stream's initial credits): what a broker source sizes its unacked window to, e.g.
   * credits x maxBatchSize messages of prefetch.
   */
  credits: number;
  stageId: string;
  /** Aborted when the stream ends: stop reading and release what you hold. */
  signal: AbortSignal;
}

/**
 * Cuts a source's batches to ReadContext.maxBatchBytes at event boundaries, counting in the
 * stream's event major: `new BatchByteLimit(context)`. (Given a number, it counts event v1's
 * EventBatch, as before majors; at v2 that falls short of the CloudEventBatch's size, which Core
 * then cuts.) Begin each batch with
 * the events `startBatch` returns, then ask `admits` of each event before adding it: when it says
 * no, end the batch with the checkpoint that resumes at that event, which the limit keeps to
 * begin the next batch. The first event of a batch is always admitted, so an event larger than
 * the limit on its own goes alone (Core dead-letters it with its size) and a source never stalls
 * on it. Counts each event's exact share of the encoded EventBatch from its field sizes (no
 * encoding); with no limit stated (0) it counts nothing and admits everything.
 */
export class BatchByteLimit {
  private bytes = 0;
  private events = 0;
  private held: { event: FlowEvent; share: number } | undefined;
  private readonly maxBatchBytes: number;
  private readonly share: (event: FlowEvent) => number;

  constructor(limit: number | Pick<ReadContext, "maxBatchBytes" | "eventMajor">) {
    this.maxBatchBytes = typeof limit === "number" ? limit : limit.maxBatchBytes;
    this.share = batchShareIn(typeof limit === "number" ? 1 : limit.eventMajor);
  }

  /** A new batch: its first events, the one the last batch could not take or none. */
  startBatch(): FlowEvent[] {
    const held = this.held;
    this.held = undefined;
    this.bytes = held?.share ?? 0;
    this.events = held === undefined ? 0 : 1;
    return held === undefined ? [] : [held.event];
  }

  /** Whether `event` joins the batch being filled (counted then); if not, it begins the next one. */
  admits(event: FlowEvent): boolean {
    if (this.maxBatchBytes <= 0) return true;
    const share = this.share(event);
    if (this.events > 0 && this.bytes + share > this.maxBatchBytes) {
      this.held = { event, share };
      return false;
    }
    this.bytes += share;
    this.events += 1;
    return true;
  }
}

export interface SourceDefinition<Config> extends ComponentInfo<Config> {
  /**
   * The events, batch by batch. The SDK pulls one batch per credit Core grants, so a source never
   * reads ahead of what the pipeline can hold. Return (end the iterator) when a finite source is
   * exhausted. A throw fails the stream: a `PermanentError` (the source can never go on, e.g. its
   * input is not the one its checkpoint was taken on) with FAILED_PRECONDITION and its message, so
   * Core stops the run instead of restarting the service; anything else with UNAVAILABLE, which
   * Core recovers from by restarting the service and reading again from the committed checkpoint.
   */
  read(config: Config, context: ReadContext): AsyncIterable<SourceOutput>;
  /** Everything up to this position is durable downstream (e.g. acknowledge it to a broker). */
  onCommit?(position: Buffer, config: Config): void | Promise<void>;
}

/**
 * A SourceBatch as the pump writes it: v1's shape (events as FlowEvent, converted at the wire at
 * v2) with the direct data path's fields of source_service v2.1.
 */
type SentBatch = SourceBatch & Pick<Partial<SourceBatchV2>, "ref" | "eventCount" | "batchBytes">;

/** SourceBatch.batch = 2: a batch the SDK already encoded is spliced in as its bytes. */
const BATCH = lengthDelimitedTag(2);

/**
 * What Core is told of a batch: its reference when the peers took it (the events went to them),
 * else its events, as the bytes they were already encoded to when there are such.
 */
function sentBatch(
  sequence: bigint,
  events: FlowEvent[],
  checkpoint: NonNullable<SourceBatch["checkpoint"]>,
  outcome: PushOutcome | undefined,
): SentBatch {
  if (outcome?.pushed) {
    const { ref, count, bytes } = outcome.pushed;
    return { sequence, checkpoint, ref, eventCount: count, batchBytes: BigInt(bytes) };
  }
  if (outcome?.encoded)
    return withSplicedFields({ sequence, checkpoint }, [{ tag: BATCH, bytes: outcome.encoded }]);
  return { sequence, batch: { events }, checkpoint };
}

/**
 * The gRPC implementation of source_service at `contract.major` for a definition: at v2 the
 * definition's codec takes the source's FlowEvents and sends events v2 (event-wire.ts), and where
 * ReadStart names peers (the direct data path, direct-path.ts) each batch that fits them is
 * pushed to them and Core gets its reference (peer-outbox.ts).
 */
export function sourceImplementation<Config>(
  definition: SourceDefinition<Config>,
  contract: ContractVersion,
  server: Pick<ServiceServer, "trackDrain" | "isStopping" | "maxMessageBytes">,
  /** Every contract the service serves (Describe lists them all); `contract` by default. */
  served: ContractVersion[] = [contract],
  options: DirectPathOption = {},
): grpc.UntypedServiceImplementation {
  const validator = new ConfigValidator<Config>(definition.configSchema);
  const direct = directPathOn(contract.major, options);
  const warn = serviceWarnings(definition.name);

  const Read: grpc.handleBidiStreamingCall<ReadRequest, ReadResponse> = (call) => {
    const abort = new AbortController();
    let credits = 0;
    let wake: (() => void) | undefined;
    let started = false;
    let finished = false;
    let config: Config | undefined;
    let outbox: PeerOutbox | undefined;
    const signalWake = (): void => {
      wake?.();
      wake = undefined;
    };
    const stop = (): void => {
      if (finished) return;
      finished = true;
      abort.abort();
      signalWake();
      untrack();
      outbox?.end();
    };
    let pumpDone: Promise<void> = Promise.resolve();
    let ended = false;
    const endCall = (): void => {
      if (ended) return;
      ended = true;
      call.end();
    };
    // A graceful stop reads no further batch and ends the call once the batch being written is
    // out. A batch read but not yet sent is dropped: its checkpoint was never handed out, so the
    // next read resumes before it (at-least-once).
    const untrack = server.trackDrain(async () => {
      stop();
      await pumpDone;
      endCall();
    });

    const waitForCredit = async (): Promise<void> => {
      while (credits <= 0 && !finished) await new Promise<void>((resolve) => (wake = resolve));
    };
    // Resolves on abort too: a cancelled call never drains, and the pump must not hang on it.
    const waitForDrain = (): Promise<void> =>
      new Promise((resolve) => {
        const done = (): void => {
          call.off("drain", done);
          abort.signal.removeEventListener("abort", done);
          resolve();
        };
        call.once("drain", done);
        abort.signal.addEventListener("abort", done, { once: true });
      });

    const pump = async (start: ReadStart): Promise<void> => {
      const checked = await checkConfig(definition, validator, start.configJson, {
        validateOnly: false,
        stageId: start.stageId,
      });
      if (checked.config === undefined) {
        finished = true;
        ended = true;
        untrack();
        call.emit(
          "error",
          statusError(grpc.status.INVALID_ARGUMENT, `invalid configuration: ${issuesText(checked.issues)}`),
        );
        return;
      }
      config = checked.config;
      credits += start.initialCredits;
      // source_service v2.1: the stages every batch goes to, on the direct data path.
      const peers = (start as { peers?: Peer[] }).peers ?? [];
      if (direct && peers.length > 0)
        outbox = new PeerOutbox(peers, (warning) => warn(warning, { stageId: start.stageId }));
      const context: ReadContext = {
        checkpoint:
          start.checkpoint && start.checkpoint.position.length > 0 ? start.checkpoint.position : undefined,
        maxBatchSize: start.maxBatchSize,
        // source_service 1.1.0: a service whose own generated code is older decodes no such field.
        maxBatchBytes: Number(start.maxBatchBytes ?? 0n),
        eventMajor: contract.major as EventMajor,
        lingerMs: start.lingerMs,
        credits: start.initialCredits,
        stageId: start.stageId,
        signal: abort.signal,
      };
      let iterator: AsyncIterator<SourceOutput> | undefined;
      // True while a next() the stop raced past is still running inside the source.
      let abandonedNext = false;
      let sequence = 0n;
      try {
        // Inside the try: a read() that throws before yielding fails the stream, it must not
        // become an unhandled rejection that kills the service.
        iterator = definition.read(config, context)[Symbol.asyncIterator]();
        for (;;) {
          await waitForCredit();
          if (finished) break;
          const pending = iterator.next();
          // A stop never waits on a source blocked inside next().
          const next = await unlessAborted(pending, abort.signal);
          if (!next) {
            abandonedNext = true;
            pending.catch(() => undefined);
          }
          if (finished || !next) break;
          if (next.done) {
            call.write({ response: { $case: "exhausted", value: { lastSequence: sequence } } });
            break;
          }
          sequence += 1n;
          credits -= 1;
          const { events, checkpoint } = next.value;
          // To the peers first, then Core learns the reference.
          const outcome = outbox?.admits(events.length) ? await outbox.pushEvents(events) : undefined;
          const position = { position: checkpoint.position, description: checkpoint.description ?? "" };
          const flushed = call.write({
            response: { $case: "batch", value: sentBatch(sequence, events, position, outcome) },
          });
          if (!flushed) await waitForDrain();
        }
      } catch (error) {
        if (!finished) {
          finished = true;
          ended = true;
          untrack();
          // A PermanentError says no restart can help (Core stops the run with its message);
          // anything else is a failure Core recovers from by restarting or reconnecting.
          call.emit(
            "error",
            error instanceof PermanentError
              ? statusError(grpc.status.FAILED_PRECONDITION, error.message)
              : statusError(grpc.status.UNAVAILABLE, `source failed: ${(error as Error).message}`),
          );
        }
      } finally {
        // An async generator queues return() behind a running next(): awaiting it then would
        // hang the stop on the very source the race let go of. Otherwise wait, so the source's
        // own cleanup (closing a file...) runs before the call ends.
        const closing = Promise.resolve(iterator?.return?.()).catch(() => undefined);
        outbox?.end();
        if (!abandonedNext) await closing;
      }
    };

    call.on("data", (message: ReadRequest) => {
      const request = message.request;
      if (!request) return;
      switch (request.$case) {
        case "start":
          if (started) return;
          started = true;
          pumpDone = pump(request.value);
          return;
        case "credit":
          credits += request.value.batches;
          signalWake();
          return;
        case "commit": {
          const position = request.value.checkpoint?.position;
          if (position && config !== undefined && definition.onCommit) {
            Promise.resolve(definition.onCommit(position, config)).catch(() => undefined);
          }
          return;
        }
      }
    });
    call.on("end", () => {
      stop();
      pumpDone.then(endCall);
    });
    call.on("cancelled", stop);
    call.on("error", stop);
  };

  return {
    ...componentHandlers(
      definition,
      "source",
      served,
      validator,
      server.maxMessageBytes,
      direct,
      bundlesAt(contract.major),
    ),
    Read,
  };
}
