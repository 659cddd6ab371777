import { EventEmitter } from "node:events";
import { createEvent } from "@flow/sdk";
import type { EventMajor } from "@flow/sdk/internal";
import type * as grpc from "@grpc/grpc-js";
import pino from "pino";
import { parsePipeline } from "../../config/load-pipeline";
import type { Pipeline } from "../../config/pipeline-model";
import type { LinkEndpoint, LinkStream, OpenedStream, StreamOpener } from "../link-stream";
import { encodeEvents, type RawBatch } from "../raw-batch";

/**
 * A stream a test plays the service's side of: it records what the engine wrote and answers
 * with `reply`, `fail` or `finish`. The engine cannot tell it from a gRPC stream.
 */
export class FakeLinkStream<Request, Response> extends EventEmitter implements LinkStream<Request, Response> {
  readonly written: Request[] = [];
  ended = false;
  cancelled = false;

  write(message: Request): boolean {
    this.written.push(message);
    this.emit("written", message);
    return true;
  }

  end(): void {
    this.ended = true;
    this.emit("half-closed");
  }

  cancel(): void {
    this.cancelled = true;
  }

  /** The service answers. */
  reply(response: Response): void {
    this.emit("data", response);
  }

  /** The stream breaks (the service died): grpc-js reports an error with a status. */
  fail(details: string, code = 14): void {
    this.emit("error", Object.assign(new Error(details), { code, details }) as grpc.ServiceError);
  }

  /** The service ends the stream. */
  finish(): void {
    this.emit("end");
  }
}

/** An opener that hands out a new FakeLinkStream per open, keeping them all (the last is the live one). */
export function fakeStreams<Request, Response>(): StreamOpener<Request, Response> & {
  streams: FakeLinkStream<Request, Response>[];
  last(): FakeLinkStream<Request, Response>;
  closed: number;
  /** The contract major each stream was opened at, in order. */
  majors: number[];
  /** Whether each stream was opened to carry bundles, in order. */
  bundles: boolean[];
} {
  const streams: FakeLinkStream<Request, Response>[] = [];
  const majors: number[] = [];
  const bundles: boolean[] = [];
  const opener = Object.assign(
    (_target: string, major: number, bundled = false): OpenedStream<Request, Response> => {
      const stream = new FakeLinkStream<Request, Response>();
      streams.push(stream);
      majors.push(major);
      bundles.push(bundled);
      return {
        stream,
        close: () => {
          opener.closed += 1;
        },
      };
    },
    {
      streams,
      last: () => streams[streams.length - 1] as FakeLinkStream<Request, Response>,
      closed: 0,
      majors,
      bundles,
    },
  );
  return opener;
}

/**
 * An endpoint at `target` whose recovery a test watches and, when it wants, holds or refuses;
 * negotiated at `major` of its family's contract when one is given (else never negotiated: spoken
 * to at v1).
 */
export function fakeEndpoint(
  major?: number,
  target = "fake:0",
): LinkEndpoint & { recoveries: string[]; refuse?: Error } {
  const endpoint = {
    target,
    contract: major === undefined ? undefined : { name: "fake_service", major, version: `${major}.0.0` },
    recoveries: [] as string[],
    refuse: undefined as Error | undefined,
    async recover(reason: string): Promise<void> {
      endpoint.recoveries.push(reason);
      if (endpoint.refuse) throw endpoint.refuse;
    },
  };
  return endpoint;
}

/** A pipeline plan from YAML, with address: stages (nothing is started from it). */
export function planFrom(yaml: string): Pipeline {
  return parsePipeline(`apiVersion: flow/v1\nkind: Pipeline\n${yaml}`, {
    file: "test.yaml",
    baseDir: __dirname,
    env: {},
  });
}

/** `count` small events with ids `<prefix>-1`… as a raw batch of event `major` (default v1). */
export function batchOf(count: number, prefix = "e", first = 1, major: EventMajor = 1): RawBatch {
  return encodeEvents(
    Array.from({ length: count }, (_, index) =>
      createEvent({
        id: `${prefix}-${first + index}`,
        source: "test",
        type: "t",
        data: { n: first + index },
      }),
    ),
    major,
  );
}

export const silentLogger = pino({ level: "silent" });

/** Lets promise callbacks that are already due run (a recovery's `.then`, an await). */
export async function settle(): Promise<void> {
  for (let turn = 0; turn < 5; turn += 1) await new Promise((resolve) => setImmediate(resolve));
}

/** Turns the event loop until `ready` holds (what the engine does next is all promise callbacks). */
export async function until(ready: () => boolean): Promise<void> {
  for (let turn = 0; turn < 200 && !ready(); turn += 1) await settle();
  if (!ready()) throw new Error("the engine never got there");
}
