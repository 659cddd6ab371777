import { existsSync } from "node:fs";
import { join } from "node:path";
import { removeSession, TEST_MQTT_URL, uniqueName, withMosquitto } from "@flow/testing/mosquitto";
import {
  expectExactlyOnceThroughServiceKills,
  expectNoneLostThroughCoreKill,
  type RoundTrip,
} from "./test-support/broker-round-trip";
import { tempDir } from "./test-support/temp-dir";

// The MQTT services are referenced by their built programs.
const repository = join(__dirname, "..", "..", "..");
const SOURCE_MQTT = join(repository, "sources", "mqtt", "dist", "main.js");
const CONSUMER_MQTT = join(repository, "consumers", "mqtt", "dist", "main.js");

/**
 * Mosquitto keeps at most max_queued_messages (1000) for a session beyond what is in flight, and
 * drops the rest: while the source is down (its SIGKILL, a restart, a rerun starting) everything
 * published piles up there. 300 events/s keeps a restart of a second or two well under it, so
 * nothing is dropped; at that rate 100,000 events would take more than 5 minutes, so the round
 * trip carries 8,000 (about 30 s; 10,000 took 41 s).
 */
const RATE = 300;

function trip(name: string, clientId: string, total: number): RoundTrip {
  const url = JSON.stringify(TEST_MQTT_URL);
  const topic = JSON.stringify(`flow-e2e/${clientId}`);
  return {
    name,
    total,
    rate: RATE,
    defaults: "{ batch: { maxSize: 100 }, inFlight: 4, restart: { initialDelayMs: 50 } }",
    consumer: { main: CONSUMER_MQTT, config: `{ url: ${url}, topic: ${topic} }` },
    source: {
      main: SOURCE_MQTT,
      config: `{ url: ${url}, clientId: ${JSON.stringify(clientId)}, topics: [${topic}], sessionExpirySeconds: 300 }`,
    },
  };
}

/**
 * MQTT shows no pending count: give redeliveries of the killed process's unacknowledged messages
 * (resent at once on reconnect) a moment to come in and be committed before the run is stopped.
 */
const settled = async (): Promise<boolean> => {
  await new Promise((resolve) => setTimeout(resolve, 2000));
  return true;
};

/** What the persistent session still delivers when it is taken up again (nothing, when all was PUBACKed). */
async function messagesLeftInSession(clientId: string): Promise<number> {
  const mqtt = require(require.resolve("mqtt", { paths: [join(repository, "sources", "mqtt")] }));
  let delivered = 0;
  const client = await mqtt.connectAsync(TEST_MQTT_URL, {
    clientId,
    clean: false,
    protocolVersion: 5,
    reconnectPeriod: 0,
    properties: { sessionExpiryInterval: 300 },
  });
  client.on("message", () => {
    delivered += 1;
  });
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await client.endAsync();
  return delivered;
}

withMosquitto(() => {
  describe("generator → consumer-mqtt → Mosquitto → source-mqtt → SQLite", () => {
    const dir = tempDir("mqtt");
    let clientId: string;
    beforeEach(() => {
      clientId = uniqueName("flow-e2e");
    });
    afterEach(() => removeSession(clientId));
    afterAll(() => dir.remove());

    it("8,000 events land exactly once in SQLite, through a SIGKILL of the MQTT consumer and then of the MQTT source", async () => {
      expect(existsSync(SOURCE_MQTT) && existsSync(CONSUMER_MQTT)).toBe(true);
      const round = trip("mqtt-round-trip", clientId, 8000);
      await expectExactlyOnceThroughServiceKills(dir, round, { settled });
      expect(await messagesLeftInSession(clientId)).toBe(0);
    }, 120_000);

    it("a SIGKILL of Core mid-run, then a rerun: no id lost, and the session delivers nothing more", async () => {
      const round = trip("mqtt-core-kill", clientId, 3000);
      await expectNoneLostThroughCoreKill(dir, round, { settled });
      expect(await messagesLeftInSession(clientId)).toBe(0);
    }, 120_000);
  });
});
