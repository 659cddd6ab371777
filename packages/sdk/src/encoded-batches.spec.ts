import { StreamReader } from "@flow/testing";
import * as grpc from "@grpc/grpc-js";
import { withEncodedProcessBatches } from "./encoded-batches";
import { EventBatch } from "./gen/event/v1/event";
import {
  ProcessorServiceClient,
  ProcessorServiceService,
  type ProcessRequest,
  type ProcessResponse,
} from "./gen/processor_service/v1/processor";
import { processorImplementation } from "./processor";
import { ServiceServer } from "./service-server";
import { SDK_PROTO_DIR } from "./test-support/family-servers";
import { testEvents } from "./test-support/test-events";

describe("encoded-batch processors", () => {
  it("get each batch as the EventBatch bytes and answer with bytes, decoding no event", async () => {
    const seen: Uint8Array[] = [];
    const server = await ServiceServer.start({
      services: [
        {
          definition: withEncodedProcessBatches(ProcessorServiceService),
          implementation: (started) =>
            processorImplementation(
              {
                name: "forward",
                version: "1.0.0",
                configSchema: { type: "object" },
                processEncoded(batch) {
                  seen.push(batch);
                  // Keep every other batch whole, drop the rest: a decision made without reading events.
                  return seen.length % 2 === 1 ? batch : EventBatch.encode({ events: [] }).finish();
                },
              },
              { name: "processor_service", major: 1, minor: 0, patch: 0 },
              started,
            ),
        },
      ],
      protoDir: SDK_PROTO_DIR,
    });
    const client = new ProcessorServiceClient(server.address, grpc.credentials.createInsecure());
    try {
      const call = client.process();
      const reader = new StreamReader<ProcessRequest, ProcessResponse>(call);
      call.write({ request: { $case: "start", value: { configJson: "{}", stageId: "fwd" } } });
      const first = testEvents(1, 3);
      const second = testEvents(4, 2);
      call.write({ request: { $case: "batch", value: { sequence: 1n, batch: { events: first as never } } } });
      call.write({
        request: { $case: "batch", value: { sequence: 2n, batch: { events: second as never } } },
      });
      const [one, two] = await reader.take(2);
      expect(one?.response?.$case === "batch" && one.response.value.inputSequence).toBe(1n);
      expect(
        one?.response?.$case === "batch" && one.response.value.batch?.events.map((event) => event.id),
      ).toEqual(first.map((event) => event.id));
      expect(two?.response?.$case === "batch" && two.response.value.batch?.events).toEqual([]);
      expect(
        Buffer.from(seen[0] ?? []).equals(
          Buffer.from(EventBatch.encode({ events: first as never }).finish()),
        ),
      ).toBe(true);
      call.end();
      expect((await reader.status).code).toBe(grpc.status.OK);
    } finally {
      client.close();
      await server.stop(1000);
    }
  });
});
