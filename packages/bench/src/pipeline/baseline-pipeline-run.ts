import * as fs from "node:fs";
import * as path from "node:path";
import { cpuSeconds } from "../flow/process-watch";
import { ChildProcessGroup, type SpawnedProcess } from "./child-process-group";
import { relayArgumentList } from "./relay-arguments";

// One run of the hand-written pipeline: three fresh processes (source -> middle -> sink) on
// 127.0.0.1 with OS-chosen ports, torn down afterwards whatever happens.

export type MiddleVariant = "decoding" | "forwarding";

export interface BaselinePipelineSettings {
  variant: MiddleVariant;
  events: number;
  batchSize: number;
  credits: number;
  payloadBytes: number;
}

export interface BaselinePipelineResult {
  eventsPerSecond: number;
  elapsedSeconds: number;
  maxInFlight: number;
  receivedEvents: number;
  /** CPU seconds each process used, read when the sink had every event (start-up included). */
  cpuSeconds: { source: number; middle: number; sink: number };
}

const START_TIMEOUT_MS = 15_000;

/** The compiled process scripts, in dist/pipeline (found from src/ in tests as well). */
function processScript(name: string): string {
  const script = path.join(__dirname, "..", "..", "dist", "pipeline", `${name}.js`);
  if (!fs.existsSync(script)) {
    throw new Error(`${script} is missing: build the bench package first (pnpm build)`);
  }
  return script;
}

export async function runBaselinePipeline(
  settings: BaselinePipelineSettings,
): Promise<BaselinePipelineResult> {
  const middleScript = processScript(
    settings.variant === "decoding" ? "decoding-middle-process" : "forwarding-middle-process",
  );
  const sourceScript = processScript("baseline-source-process");
  const sinkScript = processScript("baseline-sink-process");
  const group = new ChildProcessGroup();
  try {
    const source = group.spawnNode(sourceScript, [], "source");
    const sink = group.spawnNode(sinkScript, [], "sink");
    const [sourceListening, sinkListening] = await Promise.all([
      source.waitFor("listening", START_TIMEOUT_MS),
      sink.waitFor("listening", START_TIMEOUT_MS),
    ]);
    const middle = group.spawnNode(
      middleScript,
      relayArgumentList({
        source: `127.0.0.1:${sourceListening.port}`,
        sink: `127.0.0.1:${sinkListening.port}`,
        events: settings.events,
        batchSize: settings.batchSize,
        credits: settings.credits,
        payloadBytes: settings.payloadBytes,
      }),
      `middle (${settings.variant})`,
    );
    // A guard against a hang, not a timing assertion: even 2,000 events/s finishes well within it.
    const relayTimeoutMs = START_TIMEOUT_MS + settings.events / 2;
    const relayed = await middle.waitFor("relayed", relayTimeoutMs);
    const closed = await sink.waitFor("stream-closed", START_TIMEOUT_MS);
    if (closed.received_events !== settings.events) {
      throw new Error(`sink received ${closed.received_events} of ${settings.events} events`);
    }
    if (relayed.max_in_flight > settings.credits) {
      throw new Error(
        `${relayed.max_in_flight} batches were in flight with only ${settings.credits} credits`,
      );
    }
    const cpuOf = (process: SpawnedProcess) => cpuSeconds(process.child.pid ?? -1) ?? Number.NaN;
    const elapsedSeconds = relayed.elapsed_ns / 1e9;
    return {
      eventsPerSecond: settings.events / elapsedSeconds,
      elapsedSeconds,
      maxInFlight: relayed.max_in_flight,
      receivedEvents: closed.received_events,
      cpuSeconds: { source: cpuOf(source), middle: cpuOf(middle), sink: cpuOf(sink) },
    };
  } finally {
    await group.terminateAll();
  }
}
