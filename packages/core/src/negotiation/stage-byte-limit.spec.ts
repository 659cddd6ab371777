import { parsePipeline } from "../config/load-pipeline";
import type { PipelineStage } from "../config/pipeline-model";
import { ComponentDescriptor } from "../gen/component/v1/component";
import { oversizedEventReason, stageByteLimit } from "./stage-byte-limit";

const plan = parsePipeline(
  `apiVersion: flow/v1
kind: Pipeline
metadata: { name: limits }
sources: [{ id: src, address: "127.0.0.1:1" }]
consumers:
  - { id: db, address: "127.0.0.1:2", inputs: [src] }
  - { id: tight, address: "127.0.0.1:3", inputs: [src], batch: { maxBytes: 500 } }
`,
  { file: "limits.yaml", baseDir: __dirname, env: {} },
);
const stage = (id: string) => plan.stages.find((candidate) => candidate.id === id) as PipelineStage;
const announcing = (maxMessageBytes: bigint) =>
  ComponentDescriptor.fromPartial({ limits: { maxMessageBytes } });

describe("stageByteLimit", () => {
  it("takes the announced limit minus the request framing, right down to a limit too small for any batch", () => {
    expect(stageByteLimit(stage("db"), announcing(1_023n)).batchBytes).toBe(1_000);
    expect(stageByteLimit(stage("db"), announcing(10n)).batchBytes).toBe(0);
  });

  it("keeps batch.maxBytes when it is the smaller, up to exactly the announced limit minus framing", () => {
    expect(stageByteLimit(stage("tight"), announcing(523n))).toMatchObject({
      batchBytes: 500,
      boundBy: "batch.maxBytes",
    });
    expect(stageByteLimit(stage("tight"), announcing(522n))).toMatchObject({
      batchBytes: 499,
      boundBy: "message",
    });
  });

  it("assumes 4 MiB for a service without a descriptor or limits", () => {
    expect(stageByteLimit(stage("db"), undefined)).toMatchObject({
      messageBytes: 4 * 1024 * 1024,
      messageFrom: "assumed",
    });
  });
});

describe("oversizedEventReason", () => {
  it("names the size, the stage, the limit and what decides it", () => {
    expect(oversizedEventReason(stage("db"), 2_000, stageByteLimit(stage("db"), announcing(1_023n)))).toBe(
      'event too large: 2000 bytes encoded, and consumer "db" takes batches of at most 1000 bytes (the service accepts messages of at most 1023 bytes; raise its receive limit to take the event)',
    );
    expect(oversizedEventReason(stage("tight"), 600, stageByteLimit(stage("tight"), announcing(0n)))).toBe(
      'event too large: 600 bytes encoded, and consumer "tight" takes batches of at most 500 bytes (its batch.maxBytes; raise it to take the event)',
    );
    expect(oversizedEventReason(stage("db"), 5_000_000, stageByteLimit(stage("db"), undefined))).toContain(
      "the service announces no message limit, so gRPC's default of 4194304 bytes is assumed",
    );
  });
});
