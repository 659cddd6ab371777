import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import * as grpc from "@grpc/grpc-js";
import { type CloudEvent, CloudEventBatch } from "../gen/event/v2/event";
import { type Peer, PeerRef } from "../gen/peer/v1/peer";
import { ConditionWait } from "./condition-wait";
import { kitContract } from "./family-clients";

/** One IngestRequest a service pushed to the kit's Ingest, its batch as the bytes it came in. */
export interface PushedToKit {
  ref: PeerRef | undefined;
  /** The CloudEventBatch's bytes, as the service encoded them (what `batch_bytes` measures). */
  bytes: Uint8Array;
  events: CloudEvent[];
  /** Which Ingest call (0, 1, ...) carried it. */
  call: number;
}

/** One Ingest call a service made to the kit. */
export interface IngestCall {
  /** The client half-closed it (or it broke): nothing more comes on it. */
  ended: boolean;
  batches: number;
}

/** `stream/handle`: how a reference reads in report lines and keys a map. */
export const refText = (ref: PeerRef | undefined): string =>
  ref ? `${ref.stream}/${ref.handle}` : "(no ref)";

/**
 * A IngestRequest frame read field by field, so its batch is kept as the very bytes the service
 * pushed (a decoder and re-encoder could write the same events at another length).
 */
function readPushed(frame: Buffer): Omit<PushedToKit, "call"> {
  const reader = new BinaryReader(frame);
  let ref: PeerRef | undefined;
  let bytes: Uint8Array = new Uint8Array(0);
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.LengthDelimited) ref = PeerRef.decode(reader.bytes());
    else if (field === 2 && wireType === WireType.LengthDelimited) bytes = reader.bytes();
    else reader.skip(wireType);
  }
  return { ref, bytes, events: CloudEventBatch.decode(bytes).events };
}

/**
 * A downstream stage the kit plays on the direct data path: a gRPC server serving Ingest (of
 * consumer_service at the major under test), recording every IngestRequest a source or processor
 * pushes to it, and which Ingest calls ended. `peer` is what a Read or Process start names it by.
 */
export class KitPeer {
  readonly pushed: PushedToKit[] = [];
  readonly calls: IngestCall[] = [];
  private readonly waits = new ConditionWait();

  private constructor(
    private readonly server: grpc.Server,
    readonly address: string,
    readonly ingestMethod: string,
    private readonly onPushed: () => void,
  ) {}

  /** Starts one on a port the OS gives; `onPushed` is called on every batch and every call's end. */
  static async start(major: number, onPushed: () => void = () => undefined): Promise<KitPeer> {
    const ingest = kitContract("consumer", major).definition.ingest;
    if (!ingest)
      throw new Error(`consumer_service v${major} has no Ingest rpc: the kit cannot be a peer there`);
    const server = new grpc.Server();
    let peer: KitPeer | undefined;
    server.addService(
      { ingest: { ...ingest, requestDeserialize: readPushed } },
      {
        ingest: (
          call: grpc.ServerReadableStream<Omit<PushedToKit, "call">, unknown>,
          done: grpc.sendUnaryData<unknown>,
        ) => peer?.take(call, done),
      },
    );
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    peer = new KitPeer(server, `127.0.0.1:${port}`, ingest.path, onPushed);
    return peer;
  }

  /** The Peer a start names it by, with the limits a batch pushed to it must keep. */
  peer(stageId: string, limits: { maxBatchSize: number; maxBatchBytes: number }): Peer {
    return {
      stageId,
      address: this.address,
      maxBatchSize: limits.maxBatchSize,
      maxBatchBytes: BigInt(limits.maxBatchBytes),
      ingestMethod: this.ingestMethod,
      // The kit reads one IngestRequest per message: what every upstream must be able to push.
      bundles: false,
    };
  }

  /** The batch pushed under `ref`, if it came. */
  find(ref: PeerRef | undefined): PushedToKit | undefined {
    const wanted = refText(ref);
    return this.pushed.find((batch) => refText(batch.ref) === wanted);
  }

  /** Resolves true once `condition` holds, false when `timeoutMs` passes. */
  until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
    return this.waits.until(condition, timeoutMs);
  }

  /** Whether every Ingest call made to it has ended. */
  get allCallsEnded(): boolean {
    return this.calls.every((call) => call.ended);
  }

  close(): void {
    this.server.forceShutdown();
  }

  private take(
    call: grpc.ServerReadableStream<Omit<PushedToKit, "call">, unknown>,
    done: grpc.sendUnaryData<unknown>,
  ): void {
    const index = this.calls.length;
    const record: IngestCall = { ended: false, batches: 0 };
    this.calls.push(record);
    const changed = (): void => {
      this.waits.wake();
      this.onPushed();
    };
    const ended = (): void => {
      if (record.ended) return;
      record.ended = true;
      changed();
    };
    call.on("data", (batch: Omit<PushedToKit, "call">) => {
      this.pushed.push({ ...batch, call: index });
      record.batches += 1;
      changed();
    });
    call.on("end", () => {
      done(null, { batches: BigInt(record.batches) });
      ended();
    });
    call.on("cancelled", ended);
    call.on("error", ended);
  }
}
