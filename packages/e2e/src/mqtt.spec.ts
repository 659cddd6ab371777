import { existsSync } from "node:fs";
import {
  messagesLeftInSession,
  type PrivateMosquitto,
  removeSession,
  startPrivateMosquitto,
  uniqueName,
  withPrivateMosquitto,
} from "@flow/testing/mosquitto";
import {
  expectExactlyOnceThroughServiceKills,
  expectNoneLostThroughCoreKill,
  type RoundTrip,
} from "./test-support/broker-round-trip";
import { serviceMain } from "./test-support/flow-cli";
import { tempDir } from "./test-support/temp-dir";

const SOURCE_MQTT = serviceMain("@flow/source-mqtt");
const CONSUMER_MQTT = serviceMain("@flow/consumer-mqtt");

/**
 * While the source is down (its SIGKILL, a restart, Core's SIGKILL and the rerun starting) all
 * that is published piles up in its persistent session. Mosquitto's default max_queued_messages
 * (1000, the shared broker's) drops what is beyond it, so these tests run a broker of their own
 * with no queue limit, started here and stopped after the tests, failed or not.
 */
function trip(broker: PrivateMosquitto, name: string, clientId: string, total: number): RoundTrip {
  const url = JSON.stringify(broker.url);
  const topic = JSON.stringify(`flow-e2e/${clientId}`);
  return {
    name,
    total,
    rate: 10_000,
    defaults: "{ batch: { maxSize: 100 }, inFlight: 4, restart: { initialDelayMs: 50 } }",
    consumer: { main: CONSUMER_MQTT, config: `{ url: ${url}, topic: ${topic} }` },
    source: {
      main: SOURCE_MQTT,
      config: `{ url: ${url}, clientId: ${JSON.stringify(clientId)}, topics: [${topic}], sessionExpirySeconds: 300 }`,
    },
  };
}

withPrivateMosquitto(() => {
  describe("generator → consumer-mqtt → Mosquitto → source-mqtt → SQLite", () => {
    const dir = tempDir("mqtt");
    let broker: PrivateMosquitto;
    let clientId: string;
    beforeAll(async () => {
      broker = await startPrivateMosquitto({ maxQueuedMessages: 0 });
    });
    afterAll(async () => {
      await broker?.stop();
      dir.remove();
    });
    beforeEach(() => {
      clientId = uniqueName("flow-e2e");
    });
    afterEach(() => removeSession(clientId, broker.url));

    /** The session holds nothing: every message delivered to the source was PUBACKed after its commit. */
    const expectSessionEmpty = async (): Promise<void> => {
      expect(await messagesLeftInSession(clientId, `flow-e2e/${clientId}`, broker.url)).toBe(0);
    };

    it("100,000 events land exactly once in SQLite, through a SIGKILL of the MQTT consumer and then of the MQTT source", async () => {
      expect(existsSync(SOURCE_MQTT) && existsSync(CONSUMER_MQTT)).toBe(true);
      const round = trip(broker, "mqtt-round-trip", clientId, 100_000);
      await expectExactlyOnceThroughServiceKills(dir, round);
      await expectSessionEmpty();
    }, 300_000);

    it("a SIGKILL of Core mid-run, then a rerun: no id lost, and the session holds nothing unacknowledged", async () => {
      const round = trip(broker, "mqtt-core-kill", clientId, 20_000);
      await expectNoneLostThroughCoreKill(dir, round);
      await expectSessionEmpty();
    }, 300_000);
  });
});
