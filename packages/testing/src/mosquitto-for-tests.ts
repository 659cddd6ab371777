import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { connectAsync, type IClientPublishOptions, type MqttClient } from "mqtt";
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
export async function testPublisher(): Promise<MqttClient> {
  return connectAsync(TEST_MQTT_URL, { protocolVersion: 5, reconnectPeriod: 0 });
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
export async function removeSession(clientId: string): Promise<void> {
  const client = await connectAsync(TEST_MQTT_URL, {
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
