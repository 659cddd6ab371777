import type { PeerRef } from "./gen/peer/v1/peer";

/** What `take` gives for a reference whose batch never came: its Ingest stream ended without it. */
export const REF_MISSING = Symbol("the referenced batch never arrived");

export type TakenBatch = Uint8Array | typeof REF_MISSING;

/** The inbox as one Process or Write stream takes from it (PeerInbox.openReader). */
export interface InboxReader {
  take(ref: PeerRef): Promise<TakenBatch>;
  /** The stream closed (once; again does nothing). */
  close(): void;
}

/** One upstream's Ingest stream (by its stream id), as far as the inbox has heard of it. */
interface IngestStream {
  /** Ingest calls carrying it now (one, unless the upstream pushes the same stream to this server twice). */
  open: number;
  /** Every call that carried it has ended: a handle not held now never comes. */
  ended: boolean;
  /** Batches pushed and not taken yet, by handle; a list for the rare stream pushed twice. */
  batches: Map<bigint, Uint8Array[]>;
  /** Takes waiting for a handle. */
  waiters: Map<bigint, ((taken: TakenBatch) => void)[]>;
}

/**
 * The batches upstream stages pushed to this server's Ingest (the direct data path), until the
 * Process or Write stream Core names them on takes them. A reference and its bytes meet in
 * whichever order they arrive: `take` resolves with the bytes as soon as both are there, or with
 * REF_MISSING once the Ingest stream the reference names has ended without them. A stream id the
 * inbox never heard of may simply not have connected yet: a take waits for it.
 *
 * What nobody took of ended Ingest streams is dropped when the last Process or Write stream closes
 * (a Core that restarted closed them all, and names none of it again). It is not dropped when an
 * Ingest stream ends while none is open: Core may not have opened its stream here yet (an upstream
 * can push, and end its call, before this server has read Core's start), and it will name those
 * batches. What a stale stream leaves then waits for the next close: bounded by its credits. A
 * stream id once ended is remembered, so that a late reference into it is answered REF_MISSING
 * rather than waited for.
 */
export class PeerInbox {
  private readonly streams = new Map<string, IngestStream>();
  private readers = 0;

  /** An Ingest call started carrying `stream`. */
  ingestOpened(stream: string): void {
    const entry = this.entry(stream);
    entry.open += 1;
    entry.ended = false;
  }

  /** The batch pushed under `stream`/`handle`: to the take waiting for it, or kept for the one to come. */
  put(stream: string, handle: bigint, batch: Uint8Array): void {
    const entry = this.entry(stream);
    const waiting = entry.waiters.get(handle);
    const waiter = waiting?.shift();
    if (waiter) {
      if (waiting?.length === 0) entry.waiters.delete(handle);
      waiter(batch);
      return;
    }
    const held = entry.batches.get(handle);
    if (held) held.push(batch);
    else entry.batches.set(handle, [batch]);
  }

  /** An Ingest call carrying `stream` ended, normally or not. */
  ingestEnded(stream: string): void {
    const entry = this.entry(stream);
    entry.open = Math.max(0, entry.open - 1);
    if (entry.open > 0) return;
    entry.ended = true;
    for (const waiting of entry.waiters.values()) for (const waiter of waiting) waiter(REF_MISSING);
    entry.waiters.clear();
  }

  /**
   * The batch pushed under `ref`, removed from the inbox: at once when it is here, when it arrives
   * otherwise, or REF_MISSING when its Ingest stream ended without it. An aborted `signal` withdraws
   * the take (it then resolves REF_MISSING; the batch, should it come, stays for another take).
   */
  take(ref: PeerRef, signal?: AbortSignal): Promise<TakenBatch> {
    const entry = this.entry(ref.stream);
    const held = entry.batches.get(ref.handle);
    const batch = held?.shift();
    if (batch) {
      if (held?.length === 0) entry.batches.delete(ref.handle);
      return Promise.resolve(batch);
    }
    if (entry.ended || signal?.aborted) return Promise.resolve(REF_MISSING);
    return new Promise((resolve) => {
      const waiting = entry.waiters.get(ref.handle) ?? [];
      entry.waiters.set(ref.handle, waiting);
      const withdraw = (): void => {
        const index = waiting.indexOf(waiter);
        if (index >= 0) waiting.splice(index, 1);
        if (waiting.length === 0 && entry.waiters.get(ref.handle) === waiting)
          entry.waiters.delete(ref.handle);
        resolve(REF_MISSING);
      };
      const waiter = (taken: TakenBatch): void => {
        signal?.removeEventListener("abort", withdraw);
        resolve(taken);
      };
      waiting.push(waiter);
      signal?.addEventListener("abort", withdraw, { once: true });
    });
  }

  /**
   * The inbox for a Process or Write stream, open until its `close`: while any is open, what ended
   * Ingest streams left stays; when the last one closes, it is dropped. `close` also withdraws the
   * stream's takes still waiting.
   */
  openReader(): InboxReader {
    this.readers += 1;
    const closing = new AbortController();
    return {
      take: (ref) => this.take(ref, closing.signal),
      close: () => {
        if (closing.signal.aborted) return;
        closing.abort();
        this.readers -= 1;
        if (this.readers > 0) return;
        for (const entry of this.streams.values()) if (entry.ended) entry.batches.clear();
      },
    };
  }

  /** How many batches the inbox holds, untaken. */
  get heldBatches(): number {
    let held = 0;
    for (const entry of this.streams.values())
      for (const batches of entry.batches.values()) held += batches.length;
    return held;
  }

  private entry(stream: string): IngestStream {
    let entry = this.streams.get(stream);
    if (!entry) {
      entry = { open: 0, ended: false, batches: new Map(), waiters: new Map() };
      this.streams.set(stream, entry);
    }
    return entry;
  }
}
