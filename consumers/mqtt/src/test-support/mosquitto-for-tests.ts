import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { type MachineRequirement, withMachineRequirement } from "@flow/testing";

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
