import { join } from "node:path";
import { serveSource } from "@flow/sdk";
import { StreamReader, serveForTests, unary } from "@flow/testing";
import { Family } from "./gen/component/v1/component";
import {
  type DescribeResponse,
  type ReadRequest,
  type ReadResponse,
  SourceServiceClient,
  SourceServiceService,
} from "./gen/source_service/v1/source";
import { postgresSource } from "./postgres-source";

// Served in this process on a free port for this file's tests, with a client of the generated code.
const served = serveForTests(
  serveSource,
  postgresSource,
  { service: SourceServiceService, packageDir: join(__dirname, "..") },
  SourceServiceClient,
);

it("describes itself over gRPC", async () => {
  const response = await unary<DescribeResponse>((done) => served.client.describe({}, done));
  expect(response.component).toEqual(
    expect.objectContaining({ name: "flow-source-postgres", family: Family.FAMILY_SOURCE }),
  );
});

/** Reads until the source says it is exhausted; returns the batches' event ids and checkpoints. */
async function readAll(
  config: object,
  checkpoint?: string,
): Promise<{ ids: string[][]; checkpoints: string[] }> {
  const stream = served.client.read();
  const reader = new StreamReader<ReadRequest, ReadResponse>(stream);
  stream.write({
    request: {
      $case: "start",
      value: {
        configJson: JSON.stringify(config),
        ...(checkpoint ? { checkpoint: { position: Buffer.from(checkpoint), description: "" } } : {}),
        initialCredits: 10,
        maxBatchSize: 2,
        maxBatchBytes: 0n,
        lingerMs: 0,
        stageId: "test",
      },
    },
  });
  const ids: string[][] = [];
  const checkpoints: string[] = [];
  for (;;) {
    const message = await reader.next();
    if (message.response?.$case !== "batch") break;
    ids.push(message.response.value.batch?.events.map((event) => event.id) ?? []);
    checkpoints.push(message.response.value.checkpoint?.position.toString() ?? "");
  }
  stream.end();
  await reader.finished;
  return { ids, checkpoints };
}

it("emits count events in batches, each with the checkpoint after it", async () => {
  expect(await readAll({ count: 3 })).toEqual({ ids: [["1", "2"], ["3"]], checkpoints: ["2", "3"] });
});

it("resumes after a checkpoint", async () => {
  expect(await readAll({ count: 3 }, "2")).toEqual({ ids: [["3"]], checkpoints: ["3"] });
});
