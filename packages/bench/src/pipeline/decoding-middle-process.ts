import * as grpc from "@grpc/grpc-js";
import { ConsumerServiceClient, type WriteRequest } from "../gen/consumer_service/v1/consumer";
import { type ReadResponse, SourceServiceClient } from "../gen/source_service/v1/source";
import { relayUntilExhausted, waitForReady } from "./credit-relay";
import { identityProcess } from "./identity-processor";
import { announce } from "./process-announcement";
import { parseRelayArguments } from "./relay-arguments";

// The baseline's middle process as generated code makes one: every batch from the source is
// decoded into objects, run through an identity processor, and encoded again for the sink. grpc-js
// defaults everywhere (64 KiB HTTP/2 windows, default write buffers): that is the point of a
// hand-written baseline.

async function main(): Promise<void> {
  const settings = parseRelayArguments(process.argv.slice(2));
  const credentials = grpc.credentials.createInsecure();
  const source = new SourceServiceClient(settings.source, credentials);
  const sink = new ConsumerServiceClient(settings.sink, credentials);
  await Promise.all([waitForReady(source, 10_000), waitForReady(sink, 10_000)]);

  const result = await relayUntilExhausted<ReadResponse, WriteRequest>(settings, {
    read: source.read(),
    write: sink.write(),
    writeStart: { request: { $case: "start", value: { configJson: "{}", stageId: "bench-sink" } } },
    inspect(message) {
      const response = message.response;
      if (response?.$case === "batch") {
        const processed = identityProcess({ sequence: response.value.sequence, batch: response.value.batch });
        return {
          kind: "batch",
          writeRequest: {
            request: { $case: "batch", value: { sequence: processed.inputSequence, batch: processed.batch } },
          },
        };
      }
      if (response?.$case === "exhausted")
        return { kind: "exhausted", lastSequence: response.value.lastSequence };
      return { kind: "ignored" };
    },
  });
  announce(result);
  source.close();
  sink.close();
}

main().catch((error: unknown) => {
  console.error(`middle: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
