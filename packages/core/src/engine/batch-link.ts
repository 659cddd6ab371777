import { FLOW_CLI, UserError } from "@flow/errors";
import { backoffDelayMs, type EventMajor } from "@flow/sdk/internal";
import type { Logger } from "pino";
import type { NegotiatedContract } from "../clients/family-contracts";
import type { PipelineStage } from "../config/pipeline-model";
import type { Peer } from "../gen/peer/v1/peer";
import { type Delivery, type Origin, takeMerged } from "./delivery";
import {
  endpointMajor,
  type LinkEndpoint,
  type LinkStream,
  type OpenedStream,
  type StreamOpener,
} from "./link-stream";
import { type BatchLimit, DIRECT_PATH_MAJOR, describeRef, type RawBatch } from "./raw-batch";
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
 * never zero times. Subclasses read the family's answers (`onResponse`).
 */
export abstract class BatchLink<Start, Response> {
  readonly stage: PipelineStage;
  protected readonly pending = new Map<bigint, Delivery>();
  /** Deliveries waiting for room on the stream (the stage's inFlight limit), oldest first. */
  private readonly waiting: Delivery[] = [];
  private sequence = 0n;
  private opened: OpenedStream<LinkRequest<Start>, Response> | undefined;
  private recovering: Promise<void> | undefined;
  private closing = false;
  private closed: (() => void) | undefined;
  /** Negative keys in `pending` for deliveries waiting out a retry delay (they keep the link busy). */
  private retrySlot = 0n;
  /** Bumped by `reset`: a retry timer of an earlier generation lets its delivery go. */
  private generation = 0;
  protected readonly logger: Logger;
  protected readonly now: () => number;

  constructor(
    private readonly parts: LinkParts<Start, Response>,
    protected readonly hooks: LinkHooks,
  ) {
    this.stage = parts.stage;
    this.logger = parts.logger;
    this.now = parts.now ?? Date.now;
  }

  /** Handles one answer from the service (take its delivery with `answer`). */
  protected abstract onResponse(response: Response): void;

  /** Batches sent and not yet answered. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Batches Core holds for this stage: unanswered plus waiting for room. */
  get held(): number {
    return this.pending.size + this.waiting.length;
  }

  /**
   * Some batch Core holds for this stage (unanswered, waiting for room or for a retry) is known
   * only by reference: its events are with the stage's service alone, so its stream breaking
   * would lose them (what the data-plane restart looks at).
   */
  get holdsRefs(): boolean {
    for (const delivery of this.pending.values()) if (delivery.batch.ref) return true;
    return this.waiting.some((delivery) => delivery.batch.ref !== undefined);
  }

  private get stream(): LinkStream<LinkRequest<Start>, Response> | undefined {
    return this.opened?.stream;
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
    this.opened?.close();
    const { endpoint } = this.parts;
    const opened = this.parts.openStream(endpoint.target, endpointMajor(endpoint));
    this.opened = opened;
    const { stream } = opened;
    stream.on("data", (response: Response) => {
      if (this.opened === opened) this.onResponse(response);
    });
    stream.on("error", (error) => {
      if (this.opened === opened) this.broken(`stream failed: ${error.details || error.message}`);
    });
    stream.on("end", () => {
      if (this.opened !== opened) return;
      if (this.closing && this.held === 0) {
        this.opened = undefined;
        opened.close();
        this.closed?.();
      } else this.broken("the service ended the stream");
    });
    stream.write(this.startMessage());
  }

  send(origins: Origin[], batch: RawBatch): void {
    this.waiting.push({ origins, batch, attempts: 0, sentAt: this.now() });
    this.sendWaiting();
  }

  /** Half-closes once every batch is answered; resolves when the service ended the stream. */
  close(): Promise<void> {
    this.closing = true;
    return new Promise<void>((resolve) => {
      this.closed = resolve;
      if (!this.stream) resolve();
      else this.settleIfClosing();
    });
  }

  /** Drops the stream without waiting (the run failed, or the run ends). */
  abort(): void {
    this.closing = true;
    this.stream?.cancel();
    this.opened?.close();
    this.opened = undefined;
  }

  /**
   * The data-plane restart (data-plane-restart.ts): forgets every delivery, unanswered or
   * waiting - their sources read them again from their checkpoints - and carries on with a fresh
   * stream, so nothing sent on the old one is answered or replayed. A link that is recovering its
   * endpoint keeps recovering and opens its new stream with nothing to replay.
   */
  reset(): void {
    this.generation += 1;
    this.pending.clear();
    this.waiting.length = 0;
    if (this.recovering || !this.opened) return;
    this.stream?.cancel();
    this.open();
    this.settleIfClosing();
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
    if (this.recovering || !this.stream || limit <= 0) return;
    const now = this.now();
    for (const [sequence, delivery] of this.pending) {
      if (sequence > 0n && now - delivery.sentAt > limit) {
        this.broken(`no answer within ${limit} ms`);
        return;
      }
    }
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
    // Keep the link busy (not closable) while the retry waits.
    const placeholder = --this.retrySlot;
    this.pending.set(placeholder, delivery);
    const generation = this.generation;
    setTimeout(() => {
      // A data-plane restart since: the delivery's source reads it again.
      if (generation !== this.generation) return;
      this.pending.delete(placeholder);
      // A retry goes ahead of what waits: it is older.
      this.waiting.unshift(delivery);
      this.sendWaiting();
    }, delay).unref();
  }

  /**
   * Takes the delivery a response answers. An answer naming a batch this stream is not waiting
   * for (never sent, or answered already) breaks the contract's one-answer-per-batch rule: no
   * restart can fix the service, and waiting for the batch it should have named would only end
   * in an ack timeout, so the run fails at once saying so.
   */
  protected answer(sequence: bigint): Delivery | undefined {
    const delivery = sequence > 0n ? this.pending.get(sequence) : undefined;
    if (!delivery) {
      this.protocolViolation(sequence);
      return undefined;
    }
    this.pending.delete(sequence);
    this.hooks.onAnswered?.((this.now() - delivery.sentAt) / 1000, delivery.batch);
    this.sendWaiting();
    return delivery;
  }

  private protocolViolation(sequence: bigint): void {
    const awaited = [...this.pending.keys()].filter((key) => key > 0n);
    const field = this.stage.family === "processor" ? "input_sequence" : "sequence";
    const what = sequence > this.sequence || sequence <= 0n ? "was never sent" : "was answered already";
    this.abort();
    this.hooks.onFatal(
      new UserError(
        `stage "${this.stage.id}": the service answered batch ${sequence}, which ${what} (awaiting ${awaited.length > 0 ? awaited.join(", ") : "no batch"})`,
        {
          hint: `each answer must carry, in ${field}, the sequence of the batch it answers, exactly once; \`${FLOW_CLI} conform\` checks a service for this`,
        },
      ),
    );
  }

  /**
   * Before retrying or giving up on a delivery the service failed: one whose batch went by
   * reference takes, in its place, the events the service returned with the failure (`field`),
   * so the retry or the dead letters go through Core with them. A service that returned none
   * breaks the contract (Core has nothing to retry nor dead-letter): false, and the run fails
   * saying so.
   */
  protected takeReturned(
    sequence: bigint,
    delivery: Delivery,
    returned: RawBatch | undefined,
    field: string,
  ): boolean {
    const { ref } = delivery.batch;
    if (!ref) return true;
    if (returned) {
      delivery.batch = returned;
      return true;
    }
    this.abort();
    this.hooks.onFatal(
      new UserError(
        `stage "${this.stage.id}": the service failed batch ${sequence}, which it was sent by reference (${describeRef(ref)}), without returning its events in ${field}`,
        {
          hint: `a service that takes batches by reference (features.direct_path) returns a failed batch's events in ${field}, so that Core can retry or dead-letter them; or run with directPath: false`,
        },
      ),
    );
    return false;
  }

  /** The service says the events of batch `sequence`, sent by reference, never reached it (ref_missing). */
  protected refLost(sequence: bigint, delivery: Delivery): void {
    const what = delivery.batch.ref ? `, sent by reference (${describeRef(delivery.batch.ref)}),` : "";
    this.hooks.onRefLost(
      `stage "${this.stage.id}": the events of batch ${sequence}${what} never reached the service (ref_missing)`,
    );
  }

  /** Call after handling a response: a closing link ends its stream once nothing is pending. */
  protected settleIfClosing(): void {
    if (this.closing && this.held === 0) this.stream?.end();
  }

  /**
   * Both families' streams open with the same StreamStart (the stage's config and id), so the
   * request is built once here for either contract.
   */
  private startMessage(): LinkRequest<Start> {
    const value = { configJson: JSON.stringify(this.stage.config ?? {}), stageId: this.stage.id };
    // A processor's start is a ProcessStart, whose peers (the direct data path) only a v2 stream
    // is given; the codec writes every field it has, so the list is there, empty or not.
    const start =
      this.stage.family === "processor"
        ? { ...value, peers: this.major === DIRECT_PATH_MAJOR ? (this.parts.peers?.() ?? []) : [] }
        : value;
    return { start: { request: { $case: "start", value: start } } as Start };
  }

  /**
   * Sends waiting deliveries, oldest first, while the stream has room. Batching while busy:
   * fresh deliveries that queued up behind a full stream go out as one batch, up to the stage's
   * limit, so a slow stage gets fewer, larger batches; an idle stream sends each at once.
   */
  private sendWaiting(): void {
    const inFlight = this.stage.settings.inFlight;
    while (this.waiting.length > 0 && this.pending.size < inFlight) {
      this.dispatch(takeMerged(this.waiting, this.parts.limit));
    }
  }

  private dispatch(delivery: Delivery): void {
    if (!delivery.sent) this.hooks.onSent?.(delivery.batch);
    delivery.sent = true;
    this.sequence += 1n;
    delivery.sentAt = this.now();
    this.pending.set(this.sequence, delivery);
    if (this.stream && !this.recovering)
      this.stream.write({ sequence: this.sequence, batch: delivery.batch });
  }

  private broken(reason: string): void {
    if (this.recovering || (this.closing && this.held === 0)) return;
    const stream = this.stream;
    this.opened?.close();
    this.opened = undefined;
    stream?.cancel();
    this.logger.warn(
      { stage: this.stage.id, reason, unanswered: this.pending.size },
      "link broken; recovering",
    );
    // Events sent by reference were with the service alone: replaying the references to its
    // successor would find nothing (its Ingest lost them). Looked at before the recovery starts,
    // as the restart this calls for resets this link too (a recovering link only forgets).
    const lostRefs = this.holdsRefs;
    this.recovering = this.parts.endpoint
      .recover(reason)
      .then(() => {
        this.recovering = undefined;
        const unanswered = [...this.pending.entries()]
          .filter(([sequence]) => sequence > 0n)
          .sort(([a], [b]) => (a < b ? -1 : 1));
        for (const [sequence] of unanswered) this.pending.delete(sequence);
        this.open();
        // The unanswered batches are older than every waiting one: they go first, in order.
        this.waiting.unshift(...unanswered.map(([, delivery]) => delivery));
        this.sendWaiting();
        this.settleIfClosing();
      })
      .catch((error: Error) => {
        this.recovering = undefined;
        this.hooks.onFatal(error);
      });
    if (lostRefs) {
      this.hooks.onRefLost(
        `stage "${this.stage.id}": ${reason}, while it held batches sent by reference (their events were with its service alone)`,
      );
    }
  }
}
