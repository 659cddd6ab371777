import { randomUUID } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { BundleWriter } from "./bundle-writer";
import type { FlowEvent } from "./flow-event";
import type { Peer, PeerRef } from "./gen/peer/v1/peer";
import { PEER_STREAM_METADATA } from "./ingest-handler";
import { peerBatchOfBytes, peerBatchOfEvents } from "./peer-batch-frame";
import { FLOW_CHANNEL_OPTIONS } from "./service-server";

/** How long a stream's first push waits for its peers to connect before it gives up on them. */
export const PEER_CONNECT_TIMEOUT_MS = 10_000;

/** A batch pushed to every peer: what Core is told instead of its events. */
export interface PushedBatch {
  ref: PeerRef;
  /** Its events. */
  count: number;
  /** The size of its encoded CloudEventBatch. */
  bytes: number;
}

/**
 * What became of events offered to the peers: pushed, or not, with (when the SDK had to encode
 * them to learn their size) the CloudEventBatch they encode to, for Core to get as it is.
 */
export type PushOutcome = { pushed: PushedBatch } | { pushed?: undefined; encoded?: Uint8Array };

const passThrough = (frame: Buffer): Buffer => frame;

/**
 * One peer's Ingest call, on a channel of its own. To a peer that reads bundles on Ingest
 * (`peer.bundles`, family contracts v2.3) the batches pushed in one event-loop turn go out as one
 * message (BundleWriter); to any other, one message each.
 */
class PeerIngest {
  readonly client: grpc.Client;
  readonly call: grpc.ClientWritableStream<Buffer>;
  private readonly writer: BundleWriter;
  private done = false;
  private ended = false;

  constructor(
    readonly peer: Peer,
    stream: string,
    onFailure: (reason: string) => void,
  ) {
    this.client = new grpc.Client(peer.address, grpc.credentials.createInsecure(), FLOW_CHANNEL_OPTIONS);
    const metadata = new grpc.Metadata();
    metadata.set(PEER_STREAM_METADATA, stream);
    this.call = this.client.makeClientStreamRequest<Buffer, Buffer>(
      peer.ingestMethod,
      passThrough,
      passThrough,
      metadata,
      (error) => {
        this.done = true;
        this.writer.drop();
        this.client.close();
        if (error) onFailure(`its Ingest call failed: ${error.message}`);
        else if (!this.ended) onFailure("it ended its Ingest call");
      },
    );
    this.writer = new BundleWriter((frame) => {
      if (!this.done) this.call.write(frame);
    });
    if (peer.bundles) this.writer.startBundling();
  }

  /** Resolves with why the peer cannot be reached, or undefined once it is connected. */
  connected(deadline: Date): Promise<string | undefined> {
    const channel = this.client.getChannel();
    return new Promise((resolve) => {
      const check = (error?: Error): void => {
        if (error) {
          resolve(`it did not connect within ${PEER_CONNECT_TIMEOUT_MS} ms`);
          return;
        }
        let state: grpc.connectivityState;
        try {
          state = channel.getConnectivityState(true);
        } catch {
          resolve("its channel was closed");
          return;
        }
        if (state === grpc.connectivityState.READY) resolve(undefined);
        else if (
          state === grpc.connectivityState.TRANSIENT_FAILURE ||
          state === grpc.connectivityState.SHUTDOWN
        )
          resolve("it cannot be connected to");
        else channel.watchConnectivityState(state, deadline, check);
      };
      check();
    });
  }

  write(frame: Buffer): void {
    if (!this.ended && !this.done) this.writer.write(frame);
  }

  /** Ends the call once what the turn held is written. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.done) {
      this.writer.drop();
      return;
    }
    this.writer.flush();
    this.call.end();
  }
}

/**
 * The upstream half of the direct data path for one Core stream (a source's Read, a processor's
 * Process) whose start named peers: an Ingest call to each peer, under a stream id of its own
 * (`randomUUID()`), batches numbered 1, 2, 3... on it, each pushed to every peer under the same
 * reference. A batch goes to the peers only when it fits every one of them (`admits`, then the
 * byte limit once it is encoded); to a peer whose Peer says `bundles`, the pushes of one turn go as
 * one message. Anything else goes to Core with its events, as does every batch
 * once a peer could not be reached or its Ingest call failed (warned of once). `end` ends every
 * Ingest call, as the Core stream ends.
 */
export class PeerOutbox {
  readonly stream = randomUUID();
  private readonly ingests: PeerIngest[];
  private readonly connected: Promise<void>;
  private readonly maxBatchSize: number;
  private readonly maxBatchBytes: number;
  private lastHandle = 0n;
  private failed = false;
  private ended = false;

  constructor(
    peers: readonly Peer[],
    private readonly warn: (message: string) => void,
  ) {
    const limit = (limits: number[]): number => (limits.length > 0 ? Math.min(...limits) : 0);
    this.maxBatchSize = limit(peers.map((peer) => peer.maxBatchSize).filter((size) => size > 0));
    this.maxBatchBytes = limit(peers.map((peer) => Number(peer.maxBatchBytes)).filter((bytes) => bytes > 0));
    this.ingests = peers.map(
      (peer) => new PeerIngest(peer, this.stream, (reason) => this.fail(peer, reason)),
    );
    const deadline = new Date(Date.now() + PEER_CONNECT_TIMEOUT_MS);
    this.connected = Promise.all(
      this.ingests.map(async (ingest) => {
        const unreachable = await ingest.connected(deadline);
        if (unreachable) this.fail(ingest.peer, unreachable);
      }),
    ).then(() => undefined);
  }

  /** Whether batches still go to the peers (none failed, the stream did not end). */
  get pushing(): boolean {
    return !this.failed && !this.ended;
  }

  /** Whether a batch of `count` events may go to the peers, as far as its count tells (0 never does). */
  admits(count: number): boolean {
    return this.pushing && count > 0 && (this.maxBatchSize === 0 || count <= this.maxBatchSize);
  }

  /**
   * Encodes `events` once, as a CloudEventBatch, and pushes them to every peer when they fit;
   * otherwise gives back what they encoded to (when it got that far), for Core.
   */
  async pushEvents(events: readonly FlowEvent[]): Promise<PushOutcome> {
    if (!this.admits(events.length)) return {};
    await this.connected;
    if (!this.admits(events.length)) return {};
    const ref = this.nextRef();
    const { frame, batch } = peerBatchOfEvents(ref, events);
    if (!this.fitsBytes(batch.length)) return { encoded: batch };
    return { pushed: this.send(ref, frame, events.length, batch.length) };
  }

  /** Pushes an encoded CloudEventBatch of `count` events to every peer when it fits; undefined when not. */
  async pushEncoded(batch: Uint8Array, count: number): Promise<PushedBatch | undefined> {
    if (!this.admits(count) || !this.fitsBytes(batch.length)) return undefined;
    await this.connected;
    if (!this.admits(count)) return undefined;
    const ref = this.nextRef();
    return this.send(ref, peerBatchOfBytes(ref, batch), count, batch.length);
  }

  /** Ends every Ingest call (the Core stream ended); later batches go to Core. */
  end(): void {
    this.ended = true;
    for (const ingest of this.ingests) ingest.end();
  }

  private fitsBytes(bytes: number): boolean {
    return this.maxBatchBytes === 0 || bytes <= this.maxBatchBytes;
  }

  /** The reference of the next batch pushed (handles are used only by batches that go out). */
  private nextRef(): PeerRef {
    return { stream: this.stream, handle: this.lastHandle + 1n };
  }

  private send(ref: PeerRef, frame: Buffer, count: number, bytes: number): PushedBatch {
    this.lastHandle = ref.handle;
    for (const ingest of this.ingests) ingest.write(frame);
    return { ref, count, bytes };
  }

  private fail(peer: Peer, reason: string): void {
    if (this.failed || this.ended) return;
    this.failed = true;
    this.warn(
      `direct data path: peer ${peer.stageId} at ${peer.address}: ${reason}; the rest of this stream's batches go through Core`,
    );
    for (const ingest of this.ingests) ingest.end();
  }
}
