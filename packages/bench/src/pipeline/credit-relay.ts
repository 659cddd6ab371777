import type * as grpc from "@grpc/grpc-js";
import { AckStatus, type WriteResponse } from "../gen/consumer_service/v1/consumer";
import type { ReadRequest } from "../gen/source_service/v1/source";
import type { RelayedAnnouncement } from "./process-announcement";
import type { RelayArguments } from "./relay-arguments";

// The middle of the baseline pipeline, independent of how batches are (de)serialized: it grants the
// source a fixed window of credits, passes every batch to the sink, and returns one credit per
// BatchAck. In-flight batches therefore never exceed the window, whatever the relative speeds.

/** What a message from the source means, and what to send the sink for it. */
export type RelayStep<TWriteRequest> =
  | { kind: "batch"; writeRequest: TWriteRequest }
  | { kind: "exhausted"; lastSequence: bigint }
  | { kind: "ignored" };

export interface RelayStreams<TReadResponse, TWriteRequest> {
  read: grpc.ClientDuplexStream<ReadRequest, TReadResponse>;
  write: grpc.ClientDuplexStream<TWriteRequest, WriteResponse>;
  /** The WriteStart message in this variant's representation. */
  writeStart: TWriteRequest;
  inspect(message: TReadResponse): RelayStep<TWriteRequest>;
}

export function relayUntilExhausted<TReadResponse, TWriteRequest>(
  settings: RelayArguments,
  streams: RelayStreams<TReadResponse, TWriteRequest>,
): Promise<RelayedAnnouncement> {
  const { read, write } = streams;
  return new Promise((resolve, reject) => {
    let received = 0;
    let acknowledged = 0;
    let maxInFlight = 0;
    let lastSequence: number | undefined;
    let done = false;
    const started = process.hrtime.bigint();
    const startedAtMs = Date.now();

    const fail = (error: Error): void => {
      if (done) return;
      done = true;
      reject(error);
    };
    const finishIfComplete = (): void => {
      if (done || lastSequence === undefined || acknowledged < lastSequence) return;
      done = true;
      const elapsedNs = Number(process.hrtime.bigint() - started);
      write.end();
      read.end();
      resolve({
        event: "relayed",
        batches: acknowledged,
        elapsed_ns: elapsedNs,
        started_at_ms: startedAtMs,
        ended_at_ms: Date.now(),
        max_in_flight: maxInFlight,
      });
    };

    write.on("data", (response: WriteResponse) => {
      if (response.response?.$case !== "ack") return;
      const ack = response.response.value;
      if (ack.status !== AckStatus.ACK_STATUS_WRITTEN) {
        fail(new Error(`sink did not write batch ${ack.sequence}: ${ack.status} ${ack.reason}`));
        return;
      }
      acknowledged += 1;
      if (ack.sequence !== BigInt(acknowledged)) {
        fail(new Error(`sink acknowledged batch ${ack.sequence}, expected ${acknowledged}`));
        return;
      }
      read.write({ request: { $case: "credit", value: { batches: 1 } } });
      finishIfComplete();
    });
    read.on("data", (message: TReadResponse) => {
      const step = streams.inspect(message);
      if (step.kind === "batch") {
        received += 1;
        maxInFlight = Math.max(maxInFlight, received - acknowledged);
        write.write(step.writeRequest);
      } else if (step.kind === "exhausted") {
        lastSequence = Number(step.lastSequence);
        finishIfComplete();
      }
    });
    read.on("error", (error: Error) => fail(new Error(`source stream: ${error.message}`)));
    write.on("error", (error: Error) => fail(new Error(`sink stream: ${error.message}`)));

    write.write(streams.writeStart);
    read.write({
      request: {
        $case: "start",
        value: {
          configJson: JSON.stringify({ events: settings.events, payload_bytes: settings.payloadBytes }),
          checkpoint: undefined,
          initialCredits: settings.credits,
          maxBatchSize: settings.batchSize,
          lingerMs: 0,
          stageId: "bench-source",
          maxBatchBytes: 0n,
        },
      },
    });
  });
}

/** Both channels connected before the clock starts, so connection set-up is not in the figure. */
export function waitForReady(client: grpc.Client, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    client.waitForReady(Date.now() + timeoutMs, (error) => (error ? reject(error) : resolve()));
  });
}
