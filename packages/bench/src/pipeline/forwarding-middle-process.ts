import * as grpc from "@grpc/grpc-js";
import { WriteRequest } from "../gen/consumer_service/v1/consumer";
import { relayUntilExhausted, waitForReady } from "./credit-relay";
import { announce } from "./process-announcement";
import { rawConsumerClient, rawSourceClient } from "./raw-bytes-clients";
import { parseRelayArguments } from "./relay-arguments";
import { spliceReadResponse } from "./source-batch-splice";

// The reference variant of the middle process: batches are forwarded as bytes, re-framed from
// SourceBatch to WriteBatch without decoding the events. It shows what decoding and re-encoding
// costs a stage that does not need to read events. Same defaults, same credits, same source and sink.

async function main(): Promise<void> {
  const settings = parseRelayArguments(process.argv.slice(2));
  const credentials = grpc.credentials.createInsecure();
  const source = rawSourceClient(settings.source, credentials);
  const sink = rawConsumerClient(settings.sink, credentials);
  await Promise.all([waitForReady(source, 10_000), waitForReady(sink, 10_000)]);

  const writeStart = Buffer.from(
    WriteRequest.encode({
      request: { $case: "start", value: { configJson: "{}", stageId: "bench-sink" } },
    }).finish(),
  );
  const result = await relayUntilExhausted<Buffer, Buffer>(settings, {
    read: source.read(),
    write: sink.write(),
    writeStart,
    inspect(message) {
      const spliced = spliceReadResponse(message);
      if (spliced.kind === "batch") return { kind: "batch", writeRequest: spliced.writeRequest };
      if (spliced.kind === "exhausted") return { kind: "exhausted", lastSequence: spliced.lastSequence };
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
