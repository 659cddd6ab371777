import {
  messagesLeftInSession,
  publishAll,
  removeSession,
  TEST_MQTT_URL,
  testPublisher,
  uniqueName,
  withMosquitto,
} from "@flow/testing/mosquitto";
import { MqttClient } from "mqtt";
import { type HeldMessage, MqttSession, type SessionOptions } from "./mqtt-session";

// The session depends on two things mqtt.js 5.16.0 does without promising them (see the README's
// "Why mqtt.js"): a handleMessage callback given an error makes the client skip its PUBACK and read
// on, and MqttClient#_sendPacket writes a packet. These tests fail, saying which, if an mqtt.js
// upgrade changes either.

it("mqtt.js still has the packet writer the session sends its PUBACKs with (MqttClient#_sendPacket)", () => {
  const writer = (MqttClient.prototype as unknown as Record<string, unknown>)._sendPacket;
  if (typeof writer !== "function")
    throw new Error(
      "mqtt.js no longer has MqttClient#_sendPacket: sources/mqtt/src/mqtt-session.ts (sendPuback) must send its deferred PUBACKs another way before this mqtt version can be used",
    );
});

withMosquitto(() => {
  const clientIds: string[] = [];
  const controller = new AbortController();
  afterAll(async () => {
    controller.abort();
    for (const clientId of clientIds) await removeSession(clientId);
  });

  function sessionOptions(clientId: string, topic: string): SessionOptions {
    return {
      url: TEST_MQTT_URL,
      clientId,
      topics: [topic],
      protocolVersion: 5,
      sessionExpirySeconds: 300,
      receiveMaximum: 100,
      keepaliveSeconds: 30,
      connectTimeoutMs: 5000,
      bufferLimit: 100,
      onWarning: () => undefined,
    };
  }

  async function takeAll(session: MqttSession, count: number, why: string): Promise<HeldMessage[]> {
    const taken: HeldMessage[] = [];
    while (taken.length < count) {
      const message = await session.take(10_000, controller.signal);
      if (!message) throw new Error(`only ${taken.length} of ${count} messages came within 10 s; ${why}`);
      taken.push(message);
    }
    return taken;
  }

  it("sends no PUBACK before ackThrough (the broker sends the messages again) and one for each after it (the broker holds nothing)", async () => {
    const clientId = uniqueName("flow-test-session");
    clientIds.push(clientId);
    const topic = `flow-test/${uniqueName("topic")}`;
    const publisher = await testPublisher();
    try {
      // The session and its subscription exist before anything is published to the topic.
      const first = await MqttSession.open(sessionOptions(clientId, topic), controller.signal);
      await publishAll(publisher, topic, ["subscribed?"]);
      await takeAll(first, 1, "is the broker up?");
      first.ackThrough(1);
      await publishAll(publisher, topic, ["m1", "m2", "m3"]);
      const read = await takeAll(
        first,
        3,
        "does mqtt.js hold its packet pump after handleMessage called back with an error?",
      );
      expect(read.map((message) => message.packet.payload.toString())).toEqual(["m1", "m2", "m3"]);
      expect(first.unackedCount).toBe(3);
      // Gone without a commit: had mqtt.js sent its own PUBACKs, the broker would send nothing again.
      await first.close();

      const second = await MqttSession.open(sessionOptions(clientId, topic), controller.signal);
      const again = await takeAll(
        second,
        3,
        "the broker did not send them again: did mqtt.js PUBACK them although handleMessage called back with an error?",
      );
      expect(again.map((message) => [message.packet.payload.toString(), message.packet.dup])).toEqual([
        ["m1", true],
        ["m2", true],
        ["m3", true],
      ]);
      second.ackThrough(again.at(-1)?.index ?? 0);
      expect(second.unackedCount).toBe(0);
      await second.close();
      expect(await messagesLeftInSession(clientId, topic)).toBe(0);
    } finally {
      await publisher.endAsync();
    }
  });
});
