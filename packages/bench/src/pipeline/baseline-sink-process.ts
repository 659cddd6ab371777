import * as grpc from "@grpc/grpc-js";
import {
  AckStatus,
  type ConsumerServiceServer,
  ConsumerServiceService,
  type WriteRequest,
  type WriteResponse,
} from "../gen/consumer_service/v1/consumer";
import { announce } from "./process-announcement";

// The baseline's sink: a counting consumer on the generated consumer_service code. It decodes every
// batch (the generated deserializer does) and answers each with one BatchAck, which is what lets
// the upstream return a credit to the source.

function serveWrite(call: grpc.ServerDuplexStream<WriteRequest, WriteResponse>): void {
  let receivedEvents = 0;
  let receivedBatches = 0;
  call.on("data", (request: WriteRequest) => {
    const message = request.request;
    if (message?.$case === "batch") {
      receivedEvents += message.value.batch?.events.length ?? 0;
      receivedBatches += 1;
      call.write({
        response: {
          $case: "ack",
          value: { sequence: message.value.sequence, status: AckStatus.ACK_STATUS_WRITTEN, reason: "" },
        },
      });
    } else if (message?.$case === "flush") {
      // Counting is all this sink does, so everything before a flush is already "durable".
      call.write({ response: { $case: "flushed", value: { token: message.value.token } } });
    }
  });
  call.on("end", () => {
    call.end();
    announce({ event: "stream-closed", received_events: receivedEvents, received_batches: receivedBatches });
  });
  call.on("error", () => {
    // A cancelled writer is reported by the middle process; the count above is then incomplete.
  });
}

const handlers: ConsumerServiceServer = {
  describe: (_call, callback) => callback(null, { component: undefined }),
  configure: (_call, callback) => callback(null, { accepted: true, issues: [] }),
  write: serveWrite,
};

const server = new grpc.Server();
server.addService(ConsumerServiceService, handlers);
server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, port) => {
  if (error) {
    console.error(`sink: cannot listen: ${error.message}`);
    process.exit(1);
  }
  announce({ event: "listening", port });
});
