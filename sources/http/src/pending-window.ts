import type { BatchByteLimit, FlowEvent } from "@flow/sdk";

/** One admitted request: answered 2xx once every batch holding its events is committed. */
export interface PendingRequest {
  readonly events: number;
  /** Resolves when its events are committed; rejects when the stream ends before that. */
  readonly committed: Promise<void>;
}

interface Admitted {
  events: number;
  bytes: number;
  /** Events not yet handed out in a batch. */
  unemitted: number;
  /** The batch that holds its last event, once every event is in one. */
  lastBatch: number;
  resolve(): void;
  reject(error: Error): void;
}

interface Entry {
  event: FlowEvent;
  request: Admitted;
}

/** Why a request was refused: the window's limit it would pass. */
export type WindowFull = "events" | "bytes";

/**
 * The events received and not yet committed by Core, with the requests that brought them. Bounded
 * in events and in body bytes (counted from the first byte read), so a sender faster than the
 * pipeline is refused (429) instead of filling memory: the source's own window, standing in for the
 * stage's credits, which the SDK keeps to itself. A request is admitted whole or not at all; one is
 * always admitted when nothing is pending, so a request larger than the window still goes through.
 */
export class PendingWindow {
  private readonly queue: Entry[] = [];
  private head = 0;
  private held: Entry | undefined;
  /** Requests whose every event is in a batch, in the order of their last batch. */
  private readonly emitted: Admitted[] = [];
  private pendingEvents = 0;
  private pendingBytes = 0;
  private reservedBytes = 0;
  private closedWith: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly limits: { maxEvents: number; maxBytes: number }) {}

  /** Events received and not yet committed; events not yet in a batch; bytes held or being read. */
  get stats(): { pendingEvents: number; queuedEvents: number; pendingBytes: number } {
    return {
      pendingEvents: this.pendingEvents,
      queuedEvents: this.queued,
      pendingBytes: this.pendingBytes + this.reservedBytes,
    };
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  private get queued(): number {
    return this.queue.length - this.head + (this.held ? 1 : 0);
  }

  private get empty(): boolean {
    return this.pendingEvents === 0 && this.pendingBytes === 0 && this.reservedBytes === 0;
  }

  /** Which limit is reached already, before a request is read at all. */
  full(): WindowFull | undefined {
    if (this.empty) return undefined;
    if (this.pendingEvents >= this.limits.maxEvents) return "events";
    if (this.pendingBytes + this.reservedBytes >= this.limits.maxBytes) return "bytes";
    return undefined;
  }

  /** Holds `bytes` more of a body being read; false when they do not fit. */
  reserve(bytes: number): boolean {
    const fits = this.pendingBytes + this.reservedBytes + bytes <= this.limits.maxBytes;
    if (!fits && !this.empty) return false;
    this.reservedBytes += bytes;
    return true;
  }

  unreserve(bytes: number): void {
    this.reservedBytes -= bytes;
  }

  /**
   * Takes a request's events (its body's `bytes`, reserved while it was read, move with it), or
   * says which limit they would pass.
   */
  admit(events: FlowEvent[], bytes: number): PendingRequest | WindowFull {
    this.reservedBytes -= bytes;
    if (this.closedWith) return { events: events.length, committed: Promise.reject(this.closedWith) };
    if (events.length === 0) return { events: 0, committed: Promise.resolve() };
    if (!(this.pendingEvents === 0 && this.pendingBytes === 0)) {
      if (this.pendingEvents + events.length > this.limits.maxEvents) return "events";
      if (this.pendingBytes + this.reservedBytes + bytes > this.limits.maxBytes) return "bytes";
    }
    let resolve: () => void = () => undefined;
    let reject: (error: Error) => void = () => undefined;
    const committed = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Answered as soon as it settles; a rejection nobody awaits (the sender hung up) is no error.
    committed.catch(() => undefined);
    const request: Admitted = {
      events: events.length,
      bytes,
      unemitted: events.length,
      lastBatch: 0,
      resolve,
      reject,
    };
    this.pendingEvents += events.length;
    this.pendingBytes += bytes;
    for (const event of events) this.queue.push({ event, request });
    this.wake?.();
    return { events: events.length, committed };
  }

  /**
   * Waits until a batch can be cut: `maxSize` events queued, or some queued and `lingerMs` gone
   * since the first, or the signal aborted.
   */
  async ready(maxSize: number, lingerMs: number, signal: AbortSignal): Promise<void> {
    const onAbort = (): void => this.wake?.();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      while (this.queued === 0 && !signal.aborted)
        await new Promise<void>((resolve) => (this.wake = resolve));
      if (lingerMs <= 0 || this.queued >= maxSize || signal.aborted) return;
      const deadline = Date.now() + lingerMs;
      while (this.queued < maxSize && !signal.aborted) {
        const left = deadline - Date.now();
        if (left <= 0) return;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    } finally {
      this.wake = undefined;
      signal.removeEventListener("abort", onAbort);
    }
  }

  /** Cuts batch number `batch` from the queue: up to `maxSize` events, as `limit` admits them. */
  take(batch: number, maxSize: number, limit: BatchByteLimit): FlowEvent[] {
    const first = limit.startBatch();
    const entries: Entry[] = [];
    if (first.length > 0 && this.held) entries.push(this.held);
    this.held = undefined;
    while (entries.length < maxSize && this.head < this.queue.length) {
      const entry = this.queue[this.head] as Entry;
      this.head += 1;
      if (!limit.admits(entry.event)) {
        // The limit keeps the event to begin the next batch.
        this.held = entry;
        break;
      }
      entries.push(entry);
    }
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    for (const { request } of entries) {
      request.unemitted -= 1;
      if (request.unemitted === 0) {
        request.lastBatch = batch;
        this.emitted.push(request);
      }
    }
    return entries.map((entry) => entry.event);
  }

  /** Core committed every batch up to `batch`: the requests wholly inside them are answered 2xx. */
  commit(batch: number): void {
    let done = 0;
    while (done < this.emitted.length && (this.emitted[done] as Admitted).lastBatch <= batch) {
      const request = this.emitted[done] as Admitted;
      this.pendingEvents -= request.events;
      this.pendingBytes -= request.bytes;
      request.resolve();
      done += 1;
    }
    this.emitted.splice(0, done);
  }

  /** The stream ended: every request not committed fails with `error` (answered 503: retry). */
  close(error: Error): void {
    if (this.closedWith) return;
    this.closedWith = error;
    const requests = new Set<Admitted>(this.emitted);
    for (let index = this.head; index < this.queue.length; index += 1)
      requests.add((this.queue[index] as Entry).request);
    if (this.held) requests.add(this.held.request);
    for (const request of requests) request.reject(error);
    this.queue.length = 0;
    this.head = 0;
    this.held = undefined;
    this.emitted.length = 0;
    this.pendingEvents = 0;
    this.pendingBytes = 0;
    this.wake?.();
  }
}
