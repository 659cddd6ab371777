import { BundleWriter, bundledMessages, bundlesAt } from "@flow/sdk/internal";
import type * as grpc from "@grpc/grpc-js";
import type { LinkStream } from "./link-stream";

// Core's side of bundles (family contracts v2.2; the wire in @flow/sdk's bundle-frames.ts), on a
// stream whose service said features.bundles: what a link writes in one event-loop turn goes out
// as one message, and a bundle the service sent is read as the responses it carries, in order.
// The links never see a bundle: they write and read one message at a time, as on any stream.

/**
 * Whether a stage's data stream carries bundles: the run allows them (FLOW_STREAM_BUNDLES), the
 * contract major negotiated has them (v2), and the service said so in its descriptor's features.
 * A service that did not say so - any service built before v2.2, in any language - is sent and
 * read one message at a time, as before.
 */
export function bundlesAgreed(
  allowed: boolean,
  major: number,
  features: { readonly bundles?: boolean } | undefined,
): boolean {
  return allowed && bundlesAt(major) && features?.bundles === true;
}

/** A response that was a bundle: the responses it carried, decoded. */
export class BundledResponses<Response> {
  constructor(readonly responses: Response[]) {}
}

/** A stream's frame decoded by `decode`, or each message of it when it is a bundle. */
export function decodeBundled<Response>(
  frame: Buffer,
  decode: (message: Buffer) => Response,
): Response | BundledResponses<Response> {
  const carried = bundledMessages(frame);
  return carried ? new BundledResponses(carried.map((message) => decode(message))) : decode(frame);
}

/**
 * A LinkStream over a stream of frames (encoded messages): writes are encoded at once, held to the
 * end of the turn and sent together (BundleWriter); ending the stream sends what is held first,
 * cancelling it drops it.
 */
export class BundledLinkStream<Request, Response> implements LinkStream<Request, Response> {
  private readonly writer: BundleWriter;

  constructor(
    private readonly frames: LinkStream<Buffer, Response | BundledResponses<Response>>,
    private readonly encode: (message: Request) => Buffer,
  ) {
    this.writer = new BundleWriter((frame) => {
      frames.write(frame);
    });
    this.writer.startBundling();
  }

  write(message: Request): boolean {
    this.writer.write(this.encode(message));
    return true;
  }

  end(): void {
    this.writer.flush();
    this.frames.end();
  }

  cancel(): void {
    this.writer.drop();
    this.frames.cancel();
  }

  on(event: "data", listener: (message: Response) => void): this;
  on(event: "error", listener: (error: grpc.ServiceError) => void): this;
  on(event: "end", listener: () => void): this;
  on(event: "data" | "error" | "end", listener: (value: never) => void): this {
    if (event === "data") {
      const take = listener as (message: Response) => void;
      this.frames.on("data", (frame) => {
        if (!(frame instanceof BundledResponses)) take(frame);
        else for (const response of frame.responses) take(response);
      });
    } else if (event === "error") this.frames.on("error", listener as (error: grpc.ServiceError) => void);
    else this.frames.on("end", listener as () => void);
    return this;
  }
}
