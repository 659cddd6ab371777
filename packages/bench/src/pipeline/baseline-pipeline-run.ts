import * as fs from "node:fs";
import * as path from "node:path";
import { ProcessWatch } from "../flow/process-watch";
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
  /** CPU seconds each process used, from start-up to when the sink had every event. */
  cpuSeconds: BaselineProcesses;
  /** CPU seconds each process used in the timed window alone (ReadStart to the last ack). */
  windowCpuSeconds: BaselineProcesses;
}

export interface BaselineProcesses {
  source: number;
  middle: number;
  sink: number;
}

const START_TIMEOUT_MS = 15_000;
/** How often each process's CPU time is read: the ends of the timed window are interpolated between samples. */
export const CPU_SAMPLE_MS = 50;

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
  // This process's children: the three, whenever each starts.
  const watch = new ProcessWatch(process.pid, CPU_SAMPLE_MS);
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
    const usage = watch.stop();
    const cpuOf = (spawned: SpawnedProcess) =>
      usage.find((entry) => entry.pid === spawned.child.pid)?.cpuSeconds ?? Number.NaN;
    const windowCpuOf = (spawned: SpawnedProcess) =>
      watch.cpuSecondsBetween(spawned.child.pid ?? -1, relayed.started_at_ms, relayed.ended_at_ms);
    const elapsedSeconds = relayed.elapsed_ns / 1e9;
    return {
      eventsPerSecond: settings.events / elapsedSeconds,
      elapsedSeconds,
      maxInFlight: relayed.max_in_flight,
      receivedEvents: closed.received_events,
      cpuSeconds: { source: cpuOf(source), middle: cpuOf(middle), sink: cpuOf(sink) },
      windowCpuSeconds: { source: windowCpuOf(source), middle: windowCpuOf(middle), sink: windowCpuOf(sink) },
    };
  } finally {
    watch.stop();
    await group.terminateAll();
  }
}
