import * as grpc from "@grpc/grpc-js";
import { syntheticBatch, syntheticPayload } from "../codec/synthetic-events";
import {
  type ReadRequest,
  type ReadResponse,
  type SourceServiceServer,
  SourceServiceService,
} from "../gen/source_service/v1/source";
import { parseGeneratorConfig } from "./generator-config";
import { announce } from "./process-announcement";

// The baseline's source: a generator written directly against the generated source_service code,
// the way someone without Flow would. It sends at most one batch per credit, so a slow consumer
// slows it down instead of filling memory.

function serveRead(call: grpc.ServerDuplexStream<ReadRequest, ReadResponse>): void {
  let total = 0;
  let batchSize = 1;
  let payload: Buffer = Buffer.alloc(0);
  let credits = 0;
  let sent = 0;
  let sequence = 0n;
  let started = false;
  let exhaustedSent = false;
  let waitingForDrain = false;

  const pump = (): void => {
    while (credits > 0 && sent < total && !waitingForDrain) {
      const count = Math.min(batchSize, total - sent);
      const batch = syntheticBatch(sent, count, payload);
      sent += count;
      sequence += 1n;
      credits -= 1;
      const position = Buffer.allocUnsafe(8);
      position.writeBigUInt64BE(BigInt(sent));
      const accepted = call.write({
        response: {
          $case: "batch",
          value: { sequence, batch, checkpoint: { position, description: `after event ${sent}` } },
        },
      });
      if (!accepted) {
        waitingForDrain = true;
        call.once("drain", () => {
          waitingForDrain = false;
          pump();
        });
      }
    }
    if (sent >= total && !exhaustedSent) {
      exhaustedSent = true;
      // The stream stays open after this: the contract lets the reader send the last commits.
      call.write({ response: { $case: "exhausted", value: { lastSequence: sequence } } });
    }
  };

  call.on("data", (request: ReadRequest) => {
    const message = request.request;
    if (message?.$case === "start" && !started) {
      started = true;
      const config = parseGeneratorConfig(message.value.configJson);
      total = config.events;
      payload = syntheticPayload(config.payload_bytes);
      batchSize = Math.max(1, message.value.maxBatchSize);
      credits = message.value.initialCredits;
      pump();
    } else if (message?.$case === "credit") {
      credits += message.value.batches;
      pump();
    }
    // Commit notices need no action from a generator: it has nothing to make durable.
  });
  call.on("end", () => call.end());
  call.on("error", () => {
    // The reader went away (cancelled); nothing to clean up beyond the stream itself.
  });
}

const handlers: SourceServiceServer = {
  describe: (_call, callback) => callback(null, { component: undefined }),
  configure: (_call, callback) => callback(null, { accepted: true, issues: [] }),
  read: serveRead,
};

const server = new grpc.Server();
server.addService(SourceServiceService, handlers);
server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, port) => {
  if (error) {
    console.error(`source: cannot listen: ${error.message}`);
    process.exit(1);
  }
  announce({ event: "listening", port });
});
