import { FLOW_CLI, UserError } from "@flow/errors";
import { backoffDelayMs, type EventMajor } from "@flow/sdk/internal";
import type { Logger } from "pino";
import type { NegotiatedContract } from "../clients/family-contracts";
import type { PipelineStage } from "../config/pipeline-model";
import type { Peer } from "../gen/peer/v1/peer";
import type { Delivery, Origin } from "./delivery";
import { LinkConnection } from "./link-connection";
import { LinkDeliveries } from "./link-deliveries";
import { linkStartMessage } from "./link-start-message";
import { endpointMajor, type LinkEndpoint, type StreamOpener } from "./link-stream";
import type { BatchLimit, RawBatch } from "./raw-batch";
import {
  pushesLostInBreakReason,
  refMissingReason,
  refsLostInBreakReason,
  takeReturnedEvents,
} from "./reference-answers";
import type { LinkRequest } from "./stream-codecs";

export interface LinkHooks {
  /** The link cannot go on (restart limit spent): the run fails. */
  onFatal(error: Error): void;
  /** A delivery failed for good: dead-letter its events with the reason. */
  onGiveUp(delivery: Delivery, reason: string): void;
  /** `batch` was answered `seconds` after it was sent (latency histograms, spans). */
  onAnswered?(seconds: number, batch: RawBatch): void;
  /** A batch went out on the stream for the first time (retries and resends are not counted). */
  onSent?(batch: RawBatch): void;
  /**
   * Events Core does not hold are lost: the service says a batch sent by reference never reached
   * it (ref_missing). Nothing Core holds can replace them; the run's data-plane restart reads them
   * again from their sources (design point 6; `reason` says which stage and batch).
   */
  onRefLost(reason: string): void;
}

/** What a link is built from: its stage, its service, how to open a stream, and a clock. */
export interface LinkParts<Start, Response> {
  stage: PipelineStage;
  endpoint: LinkEndpoint;
  openStream: StreamOpener<LinkRequest<Start>, Response>;
  logger: Logger;
  /** The largest batch the stage takes (batch.maxSize, and its negotiated byte limit). */
  limit: BatchLimit;
  /**
   * The stages the stage pushes its output to on the direct data path, asked for each stream it
   * opens and put in its start message (v2 streams only); none when absent (see direct-edges.ts).
   */
  peers?: () => Peer[];
  /** Whether an upstream pushes its output to the stage on the direct data path, asked when the stream breaks. */
  pushedTo?: () => boolean;
  /** Milliseconds now (Date.now unless a test moves time itself). */
  now?: () => number;
}

/**
 * A bidirectional stream to a processor or consumer that carries numbered batches and gets one
 * answer per batch. At most the stage's `inFlight` batches are unanswered on the stream; more
 * wait in order in Core (the sources' credits bound how many can wait). Unanswered batches are
 * kept: when the stream breaks (the service crashed, went away or stopped answering) the endpoint
 * is recovered - a spawned service is restarted - and every unanswered batch is sent again, in
 * order, ahead of the waiting ones, on a new stream. At-least-once: a batch may arrive twice,
 * never zero times. What the link holds, and in which order it goes out, is link-deliveries.ts;
 * the stream's life, its breaks and recoveries, link-connection.ts. Subclasses read the family's
 * answers (`onResponse`).
 */
export abstract class BatchLink<Start, Response> {
  readonly stage: PipelineStage;
  /** What Core holds for the stage: unanswered, waiting out a retry delay, waiting for room. */
  private readonly deliveries = new LinkDeliveries();
  private readonly connection: LinkConnection<LinkRequest<Start>, Response>;
  protected readonly logger: Logger;
  protected readonly now: () => number;

  constructor(
    private readonly parts: LinkParts<Start, Response>,
    protected readonly hooks: LinkHooks,
  ) {
    this.stage = parts.stage;
    this.logger = parts.logger;
    this.now = parts.now ?? Date.now;
    const { endpoint, openStream, logger } = parts;
    this.connection = new LinkConnection(
      {
        stageId: parts.stage.id,
        endpoint,
        openStream,
        logger,
        startMessage: () => linkStartMessage<Start>(parts),
      },
      {
        held: () => this.deliveries.held,
        inFlight: () => this.deliveries.inFlight,
        onResponse: (response) => this.onResponse(response),
        // Events sent by reference were with the service alone: the stream breaking lost them, and
        // so did whatever an upstream pushed to it that Core has no reference to yet; the
        // data-plane restart this calls for also names the upstreams the restarted service.
        onBroken: (reason) => {
          if (this.holdsRefs) hooks.onRefLost(refsLostInBreakReason(parts.stage.id, reason));
          else if (parts.pushedTo?.()) hooks.onRefLost(pushesLostInBreakReason(parts.stage.id, reason));
        },
        onRecovered: () => {
          // The unanswered batches are older than every waiting one: they go first, in order.
          this.deliveries.requeueUnanswered();
          this.sendWaiting();
          this.settleIfClosing();
        },
        onFatal: (error) => hooks.onFatal(error),
      },
    );
  }

  /** Handles one answer from the service (take its delivery with `answer`). */
  protected abstract onResponse(response: Response): void;

  /** Batches sent and not yet answered. */
  get inFlight(): number {
    return this.deliveries.inFlight;
  }

  /** Batches Core holds for this stage: unanswered plus waiting for room. */
  get held(): number {
    return this.deliveries.held;
  }

  /**
   * Some batch Core holds for this stage (unanswered, waiting for room or for a retry) is known
   * only by reference: its events are with the stage's service alone, so its stream breaking
   * would lose them (what the data-plane restart looks at).
   */
  get holdsRefs(): boolean {
    return this.deliveries.holdsRefs;
  }

  /** The contract the stream speaks (negotiated): what it is sent is converted to its major (Router). */
  get contract(): NegotiatedContract | undefined {
    return this.parts.endpoint.contract;
  }

  /** The event major of the batches this link carries, both ways. */
  get major(): EventMajor {
    return endpointMajor(this.parts.endpoint);
  }

  open(): void {
    this.connection.open();
  }

  send(origins: Origin[], batch: RawBatch): void {
    this.deliveries.enqueue({ origins, batch, attempts: 0, sentAt: this.now() });
    this.sendWaiting();
  }

  /** Half-closes once every batch is answered; resolves when the service ended the stream. */
  close(): Promise<void> {
    return this.connection.close();
  }

  /** Drops the stream without waiting (the run failed, or the run ends). */
  abort(): void {
    this.connection.abort();
  }

  /**
   * The data-plane restart's first half (data-plane-restart.ts): forgets every delivery,
   * unanswered or waiting - their sources read them again from their checkpoints - and drops the
   * stream, so nothing sent on it is answered or replayed, until `reset` opens a fresh one. A
   * link that is recovering its endpoint keeps recovering, and opens no stream when that ends.
   */
  suspend(): void {
    this.deliveries.clear();
    this.connection.suspend();
  }

  /** Settles once the link is not recovering its endpoint (a restarting service is up again). */
  recovered(): Promise<void> {
    return this.connection.recovered();
  }

  /**
   * The data-plane restart's second half: forgets what came meanwhile and carries on with a fresh
   * stream, opened with the peers of the run as it is now (a restarted peer may listen elsewhere).
   */
  reset(): void {
    this.deliveries.clear();
    this.connection.restart();
  }

  /**
   * Abandons the stream when a batch has been unanswered for longer than `timeouts.ackMs`: a
   * service that stops answering holds everything sent behind the hung batch, so sending again
   * on the same stream could never succeed. The endpoint is recovered (a spawned service is
   * killed and restarted, a remote one reconnected) and every unanswered batch replayed on the
   * new stream; a replay is not an attempt, so nothing is dead-lettered for a hang.
   */
  abandonIfOverdue(): void {
    const limit = this.stage.settings.timeouts.ackMs;
    if (!this.connection.usable || limit <= 0) return;
    if (this.deliveries.overdue(this.now(), limit)) this.connection.broken(`no answer within ${limit} ms`);
  }

  /** Sends a delivery again after a backoff (a retryable failure), or gives up after the last attempt. */
  protected retry(delivery: Delivery, reason: string): void {
    delivery.attempts += 1;
    if (delivery.attempts >= this.stage.settings.retry.maxAttempts) {
      this.hooks.onGiveUp(delivery, `${reason} (gave up after ${delivery.attempts} attempts)`);
      this.settleIfClosing();
      return;
    }
    const delay = backoffDelayMs(delivery.attempts, this.stage.settings.retry);
    this.logger.warn(
      { stage: this.stage.id, attempt: delivery.attempts, delayMs: delay, reason },
      "retrying batch",
    );
    // The link stays busy (not closable) while the retry waits; a data-plane restart meanwhile
    // lets it go (its source reads it again).
    this.deliveries.holdForRetry(delivery, delay, () => this.sendWaiting());
  }

  /**
   * Takes the delivery a response answers. An answer naming a batch this stream is not waiting
   * for (never sent, or answered already) breaks the contract's one-answer-per-batch rule: no
   * restart can fix the service, and waiting for the batch it should have named would only end
   * in an ack timeout, so the run fails at once saying so.
   */
  protected answer(sequence: bigint): Delivery | undefined {
    const delivery = this.deliveries.take(sequence);
    if (!delivery) {
      this.protocolViolation(sequence);
      return undefined;
    }
    this.hooks.onAnswered?.((this.now() - delivery.sentAt) / 1000, delivery.batch);
    this.sendWaiting();
    return delivery;
  }

  private protocolViolation(sequence: bigint): void {
    const awaited = this.deliveries.unanswered();
    const field = this.stage.family === "processor" ? "input_sequence" : "sequence";
    const what =
      sequence > this.deliveries.lastSent || sequence <= 0n ? "was never sent" : "was answered already";
    this.fail(
      new UserError(
        `stage "${this.stage.id}": the service answered batch ${sequence}, which ${what} (awaiting ${awaited.length > 0 ? awaited.join(", ") : "no batch"})`,
        {
          hint: `each answer must carry, in ${field}, the sequence of the batch it answers, exactly once; \`${FLOW_CLI} conform\` checks a service for this`,
        },
      ),
    );
  }

  /** The service broke its contract: no restart can fix it, so the stream is dropped and the run fails. */
  private fail(error: UserError): void {
    this.abort();
    this.hooks.onFatal(error);
  }

  /**
   * Before retrying or giving up on a delivery the service failed: one sent by reference takes the
   * events the service returned with the failure (`field`; see reference-answers.ts). False when it
   * returned none: the run fails, saying so.
   */
  protected takeReturned(
    sequence: bigint,
    delivery: Delivery,
    returned: RawBatch | undefined,
    field: string,
  ): boolean {
    const error = takeReturnedEvents({ stageId: this.stage.id, sequence, delivery, returned, field });
    if (error) this.fail(error);
    return error === undefined;
  }

  /** The service says the events of batch `sequence`, sent by reference, never reached it (ref_missing). */
  protected refLost(sequence: bigint, delivery: Delivery): void {
    this.hooks.onRefLost(refMissingReason(this.stage.id, sequence, delivery));
  }

  /** Call after handling a response: a closing link ends its stream once nothing is pending. */
  protected settleIfClosing(): void {
    this.connection.settleIfClosing();
  }

  /**
   * Sends waiting deliveries, oldest first, while the stream has room. Batching while busy:
   * fresh deliveries that queued up behind a full stream go out as one batch, up to the stage's
   * limit, so a slow stage gets fewer, larger batches; an idle stream sends each at once.
   */
  private sendWaiting(): void {
    const next = () => this.deliveries.nextToSend(this.stage.settings.inFlight, this.parts.limit);
    for (let delivery = next(); delivery; delivery = next()) this.dispatch(delivery);
  }

  private dispatch(delivery: Delivery): void {
    if (!delivery.sent) this.hooks.onSent?.(delivery.batch);
    delivery.sent = true;
    delivery.sentAt = this.now();
    const sequence = this.deliveries.markSent(delivery);
    this.connection.send({ sequence, batch: delivery.batch });
  }
}
