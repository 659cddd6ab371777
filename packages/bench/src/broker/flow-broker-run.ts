import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { STEADY_LATENCY_NODE_FLAGS } from "@flow/sdk/internal";
import { FLOW_BIN, GENERATOR, NODE_FLAGS } from "../flow/flow-pipeline-run";
import { type Broker, type BrokerTarget, consumerMain, type PlainEvent } from "./broker-clients";

// Flow into a broker (generator -> consumer-<broker> under `flow run`) and the plain client loop it
// is compared with. Both are timed from the first to the last confirmed event: the plain loop by
// its own clock, Flow by polling what the broker holds (every POLL_MS), so start-up is excluded.

const POLL_MS = 10;

export interface BrokerRunSettings {
  events: number;
  batchSize: number;
  inFlight: number;
  payloadBytes: number;
}

/** The consumer a run writes through: its name (of the pipeline and the stage) and its program. */
export interface ConsumerStage {
  name: string;
  main: string;
}

function pipelineYaml(stage: ConsumerStage, target: BrokerTarget, settings: BrokerRunSettings): string {
  return `apiVersion: flow/v1
kind: Pipeline
metadata: { name: bench-${stage.name} }
delivery: at-least-once
defaults:
  batch: { maxSize: ${settings.batchSize} }
  inFlight: ${settings.inFlight}
sources:
  - id: gen
    command: [node, ${NODE_FLAGS}${JSON.stringify(GENERATOR)}]
    config: { count: ${settings.events}, rate: 0, batchSize: ${settings.batchSize}, payload: { size: ${settings.payloadBytes} } }
consumers:
  - id: ${stage.name}
    command: [node, ${NODE_FLAGS}${JSON.stringify(stage.main)}]
    inputs: [gen]
    config: ${target.consumerConfig}
`;
}

/** Events/s Flow moved into the broker: from the first to the last event the broker holds. */
export function runFlowIntoBroker(
  broker: Broker,
  target: BrokerTarget,
  settings: BrokerRunSettings,
): Promise<number> {
  return runFlowIntoTarget({ name: broker, main: consumerMain(broker) }, target, settings);
}

/** Events/s Flow moved through `stage` into any target that counts what it holds (a broker, a table). */
export async function runFlowIntoTarget(
  stage: ConsumerStage,
  target: BrokerTarget,
  settings: BrokerRunSettings,
): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), `flow-bench-${stage.name}-`));
  try {
    const file = join(dir, "pipeline.yaml");
    writeFileSync(file, pipelineYaml(stage, target, settings));
    const child = spawn(process.execPath, [...STEADY_LATENCY_NODE_FLAGS, FLOW_BIN, "run", file, "--json"], {
      cwd: dir,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-8000);
    });
    let exited = false;
    const exit = new Promise<number | null>((resolve) =>
      child.once("exit", (code) => {
        exited = true;
        resolve(code);
      }),
    );
    let firstAt: bigint | undefined;
    let lastAt: bigint | undefined;
    let seen = 0;
    while (seen < settings.events) {
      const count = await target.count();
      const now = process.hrtime.bigint();
      if (count > 0 && firstAt === undefined) firstAt = now;
      if (count > seen) {
        seen = count;
        lastAt = now;
      }
      if (exited && seen < settings.events) {
        // One more look: the last batch may have landed just before the exit.
        if ((await target.count()) >= settings.events) {
          seen = settings.events;
          lastAt = process.hrtime.bigint();
        }
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    const code = await exit;
    if (code !== 0)
      throw new Error(`flow run exited ${code}: ${stderr.trim().split("\n").slice(-5).join(" | ")}`);
    if (seen < settings.events) throw new Error(`the broker holds ${seen} of ${settings.events} events`);
    const seconds = Number((lastAt as bigint) - (firstAt as bigint)) / 1e9;
    return settings.events / Math.max(0.001, seconds);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Events/s of the plain client: batches published one after another, each awaited confirmed. */
export async function runPlainClient(
  target: BrokerTarget,
  events: PlainEvent[],
  batchSize: number,
  publishBatch: (events: PlainEvent[]) => Promise<void> = (batch) => target.publishBatch(batch),
): Promise<number> {
  const started = process.hrtime.bigint();
  for (let start = 0; start < events.length; start += batchSize) {
    await publishBatch(events.slice(start, start + batchSize));
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const held = await waitForCount(target, events.length);
  if (held < events.length) throw new Error(`the broker holds ${held} of ${events.length} events`);
  return events.length / Math.max(0.001, seconds);
}

async function waitForCount(target: BrokerTarget, expected: number): Promise<number> {
  const deadline = Date.now() + 5000;
  let count = await target.count();
  while (count < expected && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    count = await target.count();
  }
  return count;
}
