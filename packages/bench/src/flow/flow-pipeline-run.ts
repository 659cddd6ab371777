import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { STEADY_LATENCY_NODE_FLAGS } from "@flow/sdk/internal";
import type { CountingReport } from "../flow-services/counting-consumer";
import { CPU_SAMPLE_MS } from "../pipeline/baseline-pipeline-run";
import { DirectPathLog } from "./direct-path-log";
import { ProcessWatch } from "./process-watch";

// One run of a Flow pipeline under `flow run`, exactly as a user runs it: generator -> identity
// processor -> counting consumer, every service its own process spawned by Core.

export interface FlowPipelineSettings {
  events: number;
  batchSize: number;
  /** Credits per source (Core's inFlight setting). */
  inFlight: number;
  payloadBytes: number;
  delivery: "at-least-once" | "at-most-once";
  /** Events/s the generator offers; 0 = as fast as the pipeline takes them. */
  rate?: number;
  lingerMs?: number;
  /** The consumer holds once, after this many batches, for this long. */
  stall?: { afterBatches: number; ms: number };
  /** The consumer reports the latency of the first this-many ms of events apart (warm-up). */
  latencyWarmupMs?: number;
  /** How Core asks its services to listen (FLOW_SPAWN_NETWORK); unset, Core's default. */
  spawnNetwork?: "unix" | "tcp";
  /** Stages pinned to a family contract major (`contractMajor`); unset, each negotiates (v2). */
  contractMajors?: Partial<Record<FlowStage, number>>;
  /**
   * The direct data path (FLOW_DIRECT_PATH in Core's environment): "on" is Core's default (the
   * variable removed), "off" sends every batch through Core; unset, as this process's environment says.
   */
  directPath?: "on" | "off";
  /**
   * Bundles on the data streams (FLOW_STREAM_BUNDLES in Core's environment): "on" is Core's default
   * (the variable removed), "off" sends every stream message alone; unset, as this process's says.
   */
  streamBundles?: "on" | "off";
}

/** The stage ids of the pipeline. */
export type FlowStage = "gen" | "identity" | "count";

export interface PerProcess {
  core: number;
  source: number;
  processor: number;
  consumer: number;
}

export interface FlowPipelineResult {
  /** Events over the time from the first to the last event written by the consumer. */
  eventsPerSecond: number;
  /** From starting `flow run` to the first event written by the consumer. */
  startupSeconds: number;
  report: CountingReport;
  run: {
    status: string;
    stages: { stageId: string; eventsOut: number; peakInFlight: number; contractMajor?: number }[];
  };
  peakRss: PerProcess;
  /** CPU seconds each process used over the whole run (start-up included). */
  cpuSeconds: PerProcess;
  /** CPU seconds each process used in the timed window alone (first to last event written). */
  windowCpuSeconds: PerProcess;
  /** The edges Core made direct ("gen -> identity"), as its log says; undefined if it did not say. */
  directEdges?: string[];
}

function packageFile(packageName: string, ...path: string[]): string {
  return join(dirname(require.resolve(`${packageName}/package.json`)), ...path);
}

export const FLOW_BIN = packageFile("@flow/cli", "dist", "bin.js");
export const GENERATOR = packageFile("@flow/source-generator", "dist", "main.js");
// The built service programs, from src/flow (tests) or dist/flow alike.
const SERVICES = join(__dirname, "..", "..", "dist", "flow-services");
const IDENTITY = join(SERVICES, "identity-processor-main.js");
const COUNTING = join(SERVICES, "counting-consumer-main.js");

/**
 * Node services started with `command:` get the flags docs/pipeline.md recommends for them (the
 * ones Flow starts its own processes with), as a user following the docs would write.
 */
export const NODE_FLAGS = STEADY_LATENCY_NODE_FLAGS.map((flag) => `${flag}, `).join("");

function pipelineYaml(settings: FlowPipelineSettings, reportPath: string): string {
  const major = (stage: FlowStage) => {
    const pinned = settings.contractMajors?.[stage];
    return pinned === undefined ? "" : `\n    contractMajor: ${pinned}`;
  };
  const stall = settings.stall
    ? `, stallAfterBatches: ${settings.stall.afterBatches}, stallMs: ${settings.stall.ms}`
    : "";
  const warmup = settings.latencyWarmupMs ? `, warmupMs: ${settings.latencyWarmupMs}` : "";
  return `apiVersion: flow/v1
kind: Pipeline
metadata: { name: bench }
delivery: ${settings.delivery}
defaults:
  batch: { maxSize: ${settings.batchSize}${settings.lingerMs !== undefined ? `, lingerMs: ${settings.lingerMs}` : ""} }
  inFlight: ${settings.inFlight}${
    // A consumer that holds on purpose must not be taken for one that lost the batches.
    settings.stall ? `\n  timeouts: { ackMs: ${settings.stall.ms * 2} }` : ""
  }
sources:
  - id: gen
    command: [node, ${NODE_FLAGS}${JSON.stringify(GENERATOR)}]${major("gen")}
    config: { count: ${settings.events}, rate: ${settings.rate ?? 0}, batchSize: ${settings.batchSize}, payload: { size: ${settings.payloadBytes} } }
processors:
  - id: identity
    command: [node, ${NODE_FLAGS}${JSON.stringify(IDENTITY)}]
    inputs: [gen]${major("identity")}
consumers:
  - id: count
    command: [node, ${NODE_FLAGS}${JSON.stringify(COUNTING)}]
    inputs: [identity]${major("count")}
    config: { reportPath: ${JSON.stringify(reportPath)}${stall}${warmup} }
`;
}

/** Core's environment: this process's, with the switches the settings name. */
function coreEnvironment(settings: FlowPipelineSettings): NodeJS.ProcessEnv {
  const env = { ...process.env };
  if (settings.spawnNetwork !== undefined) env.FLOW_SPAWN_NETWORK = settings.spawnNetwork;
  if (settings.directPath === "off") env.FLOW_DIRECT_PATH = "off";
  if (settings.directPath === "on") delete env.FLOW_DIRECT_PATH;
  if (settings.streamBundles === "off") env.FLOW_STREAM_BUNDLES = "off";
  if (settings.streamBundles === "on") delete env.FLOW_STREAM_BUNDLES;
  return env;
}

/** Runs the pipeline once in a fresh folder (fresh state: no checkpoint to resume from). */
export async function runFlowPipeline(settings: FlowPipelineSettings): Promise<FlowPipelineResult> {
  const dir = mkdtempSync(join(tmpdir(), "flow-bench-"));
  try {
    const reportPath = join(dir, "report.json");
    const file = join(dir, "pipeline.yaml");
    writeFileSync(file, pipelineYaml(settings, reportPath));
    const started = Date.now();
    // As the flow bin starts (its shebang carries the same flags).
    const child = spawn(process.execPath, [...STEADY_LATENCY_NODE_FLAGS, FLOW_BIN, "run", file, "--json"], {
      cwd: dir,
      stdio: ["ignore", "pipe", "pipe"],
      env: coreEnvironment(settings),
    });
    const watch = new ProcessWatch(child.pid as number, CPU_SAMPLE_MS);
    let stdout = "";
    let stderr = "";
    const directPath = new DirectPathLog();
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      const text = chunk.toString();
      stderr = (stderr + text).slice(-8000);
      directPath.add(text);
    });
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    const usage = watch.stop();
    if (code !== 0)
      throw new Error(`flow run exited ${code}: ${stderr.trim().split("\n").slice(-5).join(" | ")}`);
    const run = JSON.parse(stdout) as FlowPipelineResult["run"];
    const report = JSON.parse(readFileSync(reportPath, "utf8")) as CountingReport;
    if (report.events !== settings.events)
      throw new Error(`the consumer received ${report.events} of ${settings.events} events`);
    const usageOf = (script: string) => usage.find((peak) => peak.command.includes(script));
    const core = usage.find((peak) => peak.pid === child.pid);
    const windowCpu = (pid: number | undefined) =>
      pid === undefined ? Number.NaN : watch.cpuSecondsBetween(pid, report.firstAt, report.lastAt);
    return {
      eventsPerSecond: settings.events / Math.max(0.001, (report.lastAt - report.firstAt) / 1000),
      startupSeconds: (report.firstAt - started) / 1000,
      report,
      run,
      peakRss: {
        core: core?.bytes ?? Number.NaN,
        source: usageOf(GENERATOR)?.bytes ?? Number.NaN,
        processor: usageOf(IDENTITY)?.bytes ?? Number.NaN,
        consumer: usageOf(COUNTING)?.bytes ?? Number.NaN,
      },
      cpuSeconds: {
        core: core?.cpuSeconds ?? Number.NaN,
        source: usageOf(GENERATOR)?.cpuSeconds ?? Number.NaN,
        processor: usageOf(IDENTITY)?.cpuSeconds ?? Number.NaN,
        consumer: usageOf(COUNTING)?.cpuSeconds ?? Number.NaN,
      },
      windowCpuSeconds: {
        core: windowCpu(core?.pid),
        source: windowCpu(usageOf(GENERATOR)?.pid),
        processor: windowCpu(usageOf(IDENTITY)?.pid),
        consumer: windowCpu(usageOf(COUNTING)?.pid),
      },
      ...(directPath.edges === undefined ? {} : { directEdges: directPath.edges }),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
