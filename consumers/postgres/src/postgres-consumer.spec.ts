import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEvent, serveConsumer } from "@flow/sdk";
import { StreamReader, serveForTests, unary } from "@flow/testing";
import { Family } from "./gen/component/v1/component";
import {
  AckStatus,
  ConsumerServiceClient,
  ConsumerServiceService,
  type DescribeResponse,
  type WriteRequest,
  type WriteResponse,
} from "./gen/consumer_service/v1/consumer";
import { postgresConsumer } from "./postgres-consumer";

// Served in this process on a free port for this file's tests, with a client of the generated code.
const served = serveForTests(
  serveConsumer,
  postgresConsumer,
  { service: ConsumerServiceService, packageDir: join(__dirname, "..") },
  ConsumerServiceClient,
);

it("describes itself over gRPC", async () => {
  const response = await unary<DescribeResponse>((done) => served.client.describe({}, done));
  expect(response.component).toEqual(
    expect.objectContaining({ name: "flow-consumer-postgres", family: Family.FAMILY_CONSUMER }),
  );
});

it("appends a batch as JSON lines and acknowledges it once written", async () => {
  const dir = mkdtempSync(join(tmpdir(), "flow-consumer-postgres-"));
  try {
    const path = join(dir, "events.jsonl");
    const stream = served.client.write();
    const reader = new StreamReader<WriteRequest, WriteResponse>(stream);
    stream.write({
      request: { $case: "start", value: { configJson: JSON.stringify({ path }), stageId: "test" } },
    });
    const events = ["1", "2"].map((id) => createEvent({ id, source: "/test", type: "t", data: { id } }));
    stream.write({ request: { $case: "batch", value: { sequence: 1n, batch: { events } } } });

    const answer = await reader.next();
    stream.end();
    await reader.finished;

    expect(answer.response).toEqual({
      $case: "ack",
      value: expect.objectContaining({ sequence: 1n, status: AckStatus.ACK_STATUS_WRITTEN }),
    });
    const lines = readFileSync(path, "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines).toEqual([
      { id: "1", source: "/test", type: "t", data: { id: "1" } },
      { id: "2", source: "/test", type: "t", data: { id: "2" } },
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
