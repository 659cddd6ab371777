import { type EventMajor, type FamilyName, FLOW_CHANNEL_OPTIONS } from "@flow/sdk/internal";
import * as grpc from "@grpc/grpc-js";
import { methodPath, type NegotiatedContract } from "../clients/family-contracts";
import { BundledLinkStream, type BundledResponses, decodeBundled } from "./bundled-link-stream";
import { eventMajorOf } from "./raw-batch";

/**
 * The part of a bidirectional gRPC stream the links use: what a test fake implements. grpc-js's
 * ClientDuplexStream is one.
 */
export interface LinkStream<Request, Response> {
  write(message: Request): boolean;
  end(): void;
  cancel(): void;
  on(event: "data", listener: (message: Response) => void): this;
  on(event: "error", listener: (error: grpc.ServiceError) => void): this;
  on(event: "end", listener: () => void): this;
}

/** A stream opened to one target, and how to let go of what it holds (its channel). */
export interface OpenedStream<Request, Response> {
  stream: LinkStream<Request, Response>;
  close(): void;
}

/**
 * Opens a stream to a service at `target`, on its family contract at `major` (the one negotiated),
 * with bundles both ways when `bundles` (negotiated): production dials gRPC, tests hand back fakes.
 */
export type StreamOpener<Request, Response> = (
  target: string,
  major: number,
  bundles?: boolean,
) => OpenedStream<Request, Response>;

/** Where a link's service is, and how to get it back after its stream broke. */
export interface LinkEndpoint {
  readonly target: string;
  /** The contract negotiation agreed on with the service (the link opens its stream at its major). */
  readonly contract?: NegotiatedContract;
  /** Whether the stream carries bundles both ways (negotiated; see bundled-link-stream.ts). */
  readonly bundles?: boolean;
  /** Makes the service usable again (a restart, a reconnect); rejects when it gives up. */
  recover(reason: string): Promise<void>;
}

/**
 * The major a link speaks with its endpoint: the negotiated one. An endpoint negotiation never
 * saw (a test's fake) is spoken to at v1, the major every Flow service of the first releases serves.
 */
export function endpointMajor(endpoint: Pick<LinkEndpoint, "contract">): EventMajor {
  return eventMajorOf(endpoint.contract?.major ?? 1);
}

/**
 * A gRPC opener for a family's data stream (Read, Process, Write) with hand-written codecs, shared
 * by its majors (their stream messages have the same fields, see stream-codecs.ts): the method
 * path is the major's, and `decode` learns the major to mark the batches it reads. One channel
 * per stream, closed with it, so a recovered service is dialled afresh.
 */
export function grpcStreamOpener<Request, Response>(
  family: FamilyName,
  encode: (message: Request) => Buffer,
  decode: (frame: Buffer, major: EventMajor) => Response,
): StreamOpener<Request, Response> {
  return (target, major, bundles = false) => {
    const path = methodPath(family, major, "stream");
    const eventMajor = eventMajorOf(major);
    const client = new grpc.Client(target, grpc.credentials.createInsecure(), FLOW_CHANNEL_OPTIONS);
    if (!bundles) {
      const stream = client.makeBidiStreamRequest(path, encode, (frame: Buffer) => decode(frame, eventMajor));
      return { stream, close: () => client.close() };
    }
    const frames = client.makeBidiStreamRequest<Buffer, Response | BundledResponses<Response>>(
      path,
      (frame) => frame,
      (frame: Buffer) => decodeBundled(frame, (message) => decode(message, eventMajor)),
    );
    return { stream: new BundledLinkStream(frames, encode), close: () => client.close() };
  };
}
