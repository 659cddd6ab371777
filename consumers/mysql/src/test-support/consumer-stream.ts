import type { FlowEvent } from "@flow/sdk";
import { StreamReader, unary } from "@flow/testing";
import type {
  BatchAck,
  ConfigureResponse,
  ConsumerServiceClient,
  WriteRequest,
  WriteResponse,
} from "../gen/consumer_service/v1/consumer";

/** Configure in validate-only mode, as Core does before a run. */
export function validateOnly(client: ConsumerServiceClient, config: object): Promise<ConfigureResponse> {
  return unary((done) =>
    client.configure({ configJson: JSON.stringify(config), validateOnly: true, stageId: "db" }, done),
  );
}

/** A Write stream: `write` sends a batch and resolves with its ack. */
export function openWrite(client: ConsumerServiceClient, config: object) {
  const stream = client.write();
  const reader = new StreamReader<WriteRequest, WriteResponse>(stream);
  stream.write({ request: { $case: "start", value: { configJson: JSON.stringify(config), stageId: "db" } } });
  let next = 0n;
  return {
    reader,
    async write(events: FlowEvent[]): Promise<BatchAck> {
      next += 1n;
      stream.write({ request: { $case: "batch", value: { sequence: next, batch: { events } } } });
      const message = await reader.next();
      if (message.response?.$case !== "ack") throw new Error("expected an ack");
      return message.response.value;
    },
    async end(): Promise<void> {
      stream.end();
      await reader.finished;
    },
  };
}
