import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { connect, type JetStreamManager, type NatsConnection } from "nats";
import type { MachineRequirement } from "./machine-requirement";

/** The machine's NATS server with JetStream (FLOW_TEST_NATS_URL, default nats://127.0.0.1:4222). */
export const TEST_NATS_URL = process.env.FLOW_TEST_NATS_URL || "nats://127.0.0.1:4222";

/**
 * Whether the server answers a JetStream account request. Synchronous (a short child process),
 * because jest decides which tests exist while loading the file.
 */
export function natsForTests(): MachineRequirement {
  const probe = `
    const { connect } = require(${JSON.stringify(require.resolve("nats"))});
    connect({ servers: process.env.PROBE_URL, timeout: 3000, maxReconnectAttempts: 0 })
      .then(async (nc) => { await (await nc.jetstreamManager()).getAccountInfo(); await nc.close(); })
      .catch((error) => { process.stderr.write(String(error.message || error)); process.exit(1); });
  `;
  try {
    execFileSync(process.execPath, ["-e", probe], {
      env: { ...process.env, PROBE_URL: TEST_NATS_URL },
      stdio: ["ignore", "ignore", "pipe"],
      timeout: 10_000,
    });
    return { available: true };
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    return { available: false, reason: stderr || String(error) };
  }
}

export const NATS_HOW_TO_FIX = `start nats-server -js on ${TEST_NATS_URL} (.ci/run starts it)`;

/** A stream of its own for one test, on `<name>.>`, deleted by remove(). */
export interface TestStream {
  readonly name: string;
  /** The subject prefix the stream covers: subjects are `${prefix}.x`. */
  readonly prefix: string;
  readonly nc: NatsConnection;
  readonly jsm: JetStreamManager;
  remove(): Promise<void>;
}

export async function createTestStream(label: string): Promise<TestStream> {
  const name = `flowtest_${label}_${randomBytes(4).toString("hex")}`;
  const nc = await connect({ servers: TEST_NATS_URL });
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({ name, subjects: [`${name}.>`] });
  return {
    name,
    prefix: name,
    nc,
    jsm,
    async remove() {
      await jsm.streams.delete(name).catch(() => undefined);
      await nc.close();
    },
  };
}

/** A service process (dist/main.js) listening where its handshake line says. */
export interface SpawnedService {
  readonly address: string;
  readonly child: ChildProcess;
  kill(signal: NodeJS.Signals): Promise<void>;
}

export async function spawnService(mainJs: string): Promise<SpawnedService> {
  const { FLOW_SERVICE_PORT: _port, FLOW_REGISTRY: _registry, ...env } = process.env;
  const child = spawn(process.execPath, [mainJs], { env, stdio: ["ignore", "pipe", "pipe"] });
  const exited = once(child, "exit");
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const kill = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    await exited;
  };
  try {
    const address = await new Promise<string>((resolve, reject) => {
      lines.on("line", (line) => {
        if (line.startsWith("flow-handshake|")) resolve(line.split("|")[5] ?? "");
      });
      void exited.then(([code, signal]) =>
        reject(new Error(`${mainJs} exited (${signal ?? code}) before its handshake: ${stderr.trim()}`)),
      );
    });
    return { address, child, kill };
  } catch (error) {
    await kill("SIGKILL");
    throw error;
  } finally {
    lines.close();
    child.stdout?.resume();
  }
}
