import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectAsync, type IClientPublishOptions, type MqttClient } from "mqtt";
import { freePort } from "./free-port";
import { type MachineRequirement, withMachineRequirement } from "./machine-requirement";

/** The machine's Mosquitto (FLOW_TEST_MQTT_URL, default mqtt://127.0.0.1:1883). */
export const TEST_MQTT_URL = process.env.FLOW_TEST_MQTT_URL || "mqtt://127.0.0.1:1883";

/**
 * Whether the broker answers an MQTT CONNECT. Synchronous (a short child process): jest decides
 * which tests exist while loading the file, before any async hook could run.
 */
function probeBroker(): MachineRequirement {
  const probe = `
    const mqtt = require(${JSON.stringify(require.resolve("mqtt"))});
    mqtt.connectAsync(process.env.PROBE_URL, { connectTimeout: 3000, reconnectPeriod: 0 })
      .then((client) => client.endAsync())
      .catch((error) => { process.stderr.write(String(error.message || error.code || error)); process.exit(1); });
  `;
  try {
    execFileSync(process.execPath, ["-e", probe], {
      env: { ...process.env, PROBE_URL: TEST_MQTT_URL },
      stdio: ["ignore", "ignore", "pipe"],
      timeout: 10_000,
    });
    return { available: true };
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    return { available: false, reason: stderr || String(error) };
  }
}

/** Registers the tests `body` defines when the broker answers; else a loud skip, or a failure under CI=true. */
export function withMosquitto(body: () => void): void {
  withMachineRequirement(
    `the MQTT broker at ${TEST_MQTT_URL}`,
    probeBroker(),
    "start Mosquitto (.ci/run starts it) or set FLOW_TEST_MQTT_URL",
    body,
  );
}

/** A name of its own for one test: topics and client ids never meet another test's. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${randomBytes(4).toString("hex")}`;
}

/** A publisher for the tests (MQTT 5), whose publishes resolve on the broker's PUBACK. */
export async function testPublisher(url: string = TEST_MQTT_URL): Promise<MqttClient> {
  return connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0 });
}

export async function publishAll(
  client: MqttClient,
  topic: string,
  payloads: (string | Buffer)[],
  options: IClientPublishOptions = {},
): Promise<void> {
  for (const payload of payloads) await client.publishAsync(topic, payload, { qos: 1, ...options });
}

/** Removes a persistent session and everything the broker holds for it (clean start, expiry 0). */
export async function removeSession(clientId: string, url: string = TEST_MQTT_URL): Promise<void> {
  const client = await connectAsync(url, {
    clientId,
    clean: true,
    protocolVersion: 5,
    reconnectPeriod: 0,
    properties: { sessionExpiryInterval: 0 },
  });
  await client.endAsync();
}

/**
 * Publishes `payload` until the broker has a subscriber for it (MQTT 5 PUBACK reason 0 rather than
 * 16, "no matching subscribers"): a subscription made by a service being started is thereby known
 * to exist, and exactly one copy of `payload` was delivered.
 */
export async function publishWhenSubscribed(
  client: MqttClient,
  topic: string,
  payload: string,
): Promise<void> {
  const reasons = new Map<number, number>();
  const onPacket = (packet: { cmd: string; messageId?: number; reasonCode?: number }): void => {
    if (packet.cmd === "puback" && packet.messageId !== undefined)
      reasons.set(packet.messageId, packet.reasonCode ?? 0);
  };
  client.on("packetreceive", onPacket);
  try {
    for (let attempt = 0; attempt < 1000; attempt += 1) {
      const sent = await client.publishAsync(topic, payload, { qos: 1 });
      if (sent?.messageId !== undefined && reasons.get(sent.messageId) === 0) return;
      await new Promise((resolve) => setImmediate(resolve));
    }
    throw new Error(`nobody subscribed to ${topic}`);
  } finally {
    client.off("packetreceive", onPacket);
  }
}

/**
 * How many messages a persistent session still holds for its client (unacknowledged in flight or
 * queued): takes the session up again (clean start off) and counts what the broker delivers before
 * a marker published after the takeover. The broker delivers a session's messages in order, the
 * ones it holds first, so the marker's arrival means nothing more is coming. The session's
 * subscriptions must cover `topic`.
 */
export async function messagesLeftInSession(
  clientId: string,
  topic: string,
  url: string = TEST_MQTT_URL,
): Promise<number> {
  const marker = `flow-session-marker-${randomBytes(8).toString("hex")}`;
  const client = await connectAsync(url, {
    clientId,
    clean: false,
    protocolVersion: 5,
    reconnectPeriod: 0,
    properties: { sessionExpiryInterval: 300 },
  });
  const publisher = await testPublisher(url);
  try {
    let held = 0;
    const markerArrived = new Promise<void>((resolve) => {
      client.on("message", (_topic, payload) => {
        if (payload.toString() === marker) resolve();
        else held += 1;
      });
    });
    await publisher.publishAsync(topic, marker, { qos: 1 });
    await markerArrived;
    return held;
  } finally {
    await publisher.endAsync();
    await client.endAsync();
  }
}

// --- A Mosquitto of the test's own --------------------------------------------------------------

/** The broker program a private instance runs (FLOW_TEST_MOSQUITTO_BIN, default Debian's). */
export const MOSQUITTO_BIN = process.env.FLOW_TEST_MOSQUITTO_BIN || "/usr/sbin/mosquitto";

export interface PrivateMosquittoSettings {
  /**
   * QoS 1 messages the broker queues per session beyond those in flight (max_queued_messages);
   * 0: no limit. The shared broker keeps Mosquitto's 1000 and drops the rest, which a test that
   * piles up more than that for a session while its client is away cannot live with.
   */
  maxQueuedMessages?: number;
}

export interface PrivateMosquitto {
  /** mqtt://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  /** Stops the broker (SIGTERM, SIGKILL after 5 s) and removes its folder. */
  stop(): Promise<void>;
}

/** Whether a private broker can be started here: the program exists and may be run. */
export function privateMosquittoRequirement(): MachineRequirement {
  try {
    accessSync(MOSQUITTO_BIN, constants.X_OK);
    return { available: true };
  } catch (error) {
    return { available: false, reason: `${MOSQUITTO_BIN}: ${(error as Error).message}` };
  }
}

/** Registers the tests of `body` when a private broker can be started; else a loud skip (a failure under CI=true). */
export function withPrivateMosquitto(body: () => void): void {
  withMachineRequirement(
    `the Mosquitto program (${MOSQUITTO_BIN})`,
    privateMosquittoRequirement(),
    "install mosquitto (apt-get install mosquitto) or set FLOW_TEST_MOSQUITTO_BIN",
    body,
  );
}

/** Brokers of this process still running: killed at exit should a test file not get to them. */
const runningBrokers = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of runningBrokers) child.kill("SIGKILL");
});

/**
 * Starts Mosquitto from a config of its own in a temp folder: 127.0.0.1 on a port the OS gave,
 * anonymous access, no persistence (nothing written to disk, nothing left after it), the given
 * queue limit. Resolves once it says it is running; a port taken in the meantime is tried again.
 */
export async function startPrivateMosquitto(
  settings: PrivateMosquittoSettings = {},
): Promise<PrivateMosquitto> {
  const dir = mkdtempSync(join(tmpdir(), "flow-private-mosquitto-"));
  try {
    for (let attempt = 1; ; attempt += 1) {
      const port = await freePort();
      const config = join(dir, "mosquitto.conf");
      writeFileSync(
        config,
        [
          `listener ${port} 127.0.0.1`,
          "allow_anonymous true",
          "persistence false",
          `max_queued_messages ${settings.maxQueuedMessages ?? 1000}`,
          "log_dest stderr",
          "log_type error",
          "log_type warning",
          "log_type notice",
          "log_type information",
          "",
        ].join("\n"),
      );
      const child = spawn(MOSQUITTO_BIN, ["-c", config], { stdio: ["ignore", "ignore", "pipe"] });
      runningBrokers.add(child);
      const started = await runningOrExit(child);
      if (started === true) return privateBroker(child, port, dir);
      runningBrokers.delete(child);
      if (!/address already in use/i.test(started) || attempt >= 5)
        throw new Error(`${MOSQUITTO_BIN} -c ${config} did not start: ${started}`);
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** true once the broker logs "running"; its log when it exits first. */
function runningOrExit(child: ChildProcess): Promise<true | string> {
  return new Promise((resolve) => {
    let log = "";
    const onData = (chunk: Buffer): void => {
      log += chunk.toString();
      if (/mosquitto version \S+ running/.test(log)) {
        child.stderr?.off("data", onData);
        // Keep reading, so a full pipe never blocks the broker; the log is not needed any more.
        child.stderr?.resume();
        resolve(true);
      }
    };
    child.stderr?.on("data", onData);
    child.once("error", (error) => resolve(error.message));
    child.once("exit", (code, signal) => resolve(`exited (${signal ?? code}): ${log.trim()}`));
  });
}

function privateBroker(child: ChildProcess, port: number, dir: string): PrivateMosquitto {
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
  let stopping: Promise<void> | undefined;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    stop() {
      stopping ??= (async () => {
        child.kill("SIGTERM");
        const killer = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(killer);
        runningBrokers.delete(child);
        rmSync(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}

/** A port the OS says is free now. */
