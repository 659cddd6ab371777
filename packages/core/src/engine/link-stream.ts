import { FLOW_CHANNEL_OPTIONS } from "@flow/sdk/internal";
import * as grpc from "@grpc/grpc-js";

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

/** Opens a stream to a service at `target`: production dials gRPC, tests hand back fakes. */
export type StreamOpener<Request, Response> = (target: string) => OpenedStream<Request, Response>;

/** Where a link's service is, and how to get it back after its stream broke. */
export interface LinkEndpoint {
  readonly target: string;
  /** Makes the service usable again (a restart, a reconnect); rejects when it gives up. */
  recover(reason: string): Promise<void>;
}

/**
 * A gRPC opener for one bidirectional method with hand-written codecs: one channel per stream,
 * closed with it, so a recovered service is dialled afresh.
 */
export function grpcStreamOpener<Request, Response>(
  path: string,
  encode: (message: Request) => Buffer,
  decode: (frame: Buffer) => Response,
): StreamOpener<Request, Response> {
  return (target) => {
    const client = new grpc.Client(target, grpc.credentials.createInsecure(), FLOW_CHANNEL_OPTIONS);
    const stream = client.makeBidiStreamRequest(path, encode, decode);
    return { stream, close: () => client.close() };
  };
}
