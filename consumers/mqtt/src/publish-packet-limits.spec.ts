import type { EventMessage } from "./cloudevent-message";
import { MQTT_MAX_STRING_BYTES, publishPacketBytes, unpublishableReason } from "./publish-packet-limits";

// mqtt.js's own encoder (mqtt-packet, its dependency), as the reference the sizes must agree with.
const mqttPacket = require(require.resolve("mqtt-packet", { paths: [require.resolve("mqtt")] })) as {
  generate(packet: object, options: { protocolVersion: number }): Buffer;
};

const encoded = (topic: string, message: EventMessage, protocolVersion: 4 | 5): number =>
  mqttPacket.generate(
    {
      cmd: "publish",
      topic,
      payload: message.payload,
      qos: 1,
      messageId: 1,
      ...(protocolVersion === 5
        ? {
            properties: {
              ...(message.contentType ? { contentType: message.contentType } : {}),
              ...(message.userProperties ? { userProperties: message.userProperties } : {}),
            },
          }
        : {}),
    },
    { protocolVersion },
  ).length;

const message = (payloadBytes: number, userProperties?: Record<string, string>): EventMessage => ({
  eventId: "e1",
  payload: Buffer.alloc(payloadBytes, 0x61),
  contentType: "application/json",
  userProperties,
});

describe("the size of a PUBLISH packet", () => {
  const cases: [string, EventMessage][] = [
    ["empty", message(0)],
    ["attributes with multi-byte UTF-8", message(10, { specversion: "1.0", id: "é1", type: "t" })],
    ["properties past 127 bytes", message(5, { note: "ü".repeat(100) })],
    ["a user property of the largest size", message(3, { pad: "p".repeat(MQTT_MAX_STRING_BYTES) })],
  ];

  it.each(cases)("agrees with mqtt.js's encoder: %s", (_name, sample) => {
    for (const topic of ["t", "flow/ünicode/topic"]) {
      expect(publishPacketBytes(topic, sample, 5)).toBe(encoded(topic, sample, 5));
      expect(publishPacketBytes(topic, sample, 4)).toBe(encoded(topic, sample, 4));
    }
  });

  it.each([127, 16_383, 2_097_151])(
    "agrees with it on both sides of the Remaining Length boundary %d",
    (boundary) => {
      for (let payload = boundary - 48; payload <= boundary + 8; payload += 1) {
        const sample = message(payload, { id: "x" });
        expect(publishPacketBytes("t", sample, 5)).toBe(encoded("t", sample, 5));
        expect(publishPacketBytes("t", sample, 4)).toBe(encoded("t", sample, 4));
      }
    },
  );
});

describe("what can never be published", () => {
  it("an attribute too long for a user property (MQTT 5), naming it", () => {
    const reason = unpublishableReason("t", message(1, { pad: "p".repeat(65_536) }), 5, undefined);
    expect(reason).toMatch(/attribute "pad" is 65536 bytes .* at most 65535 .*structured/);
    expect(unpublishableReason("t", message(1, { pad: "p".repeat(65_535) }), 5, undefined)).toBeUndefined();
  });

  it("counts bytes, not characters", () => {
    expect(unpublishableReason("t", message(1, { pad: "é".repeat(40_000) }), 5, undefined)).toMatch(
      /80000 bytes/,
    );
  });

  it("a packet over the broker's Maximum Packet Size, exactly at its edge", () => {
    const sample = message(1000, { id: "e1" });
    const size = publishPacketBytes("t", sample, 5);
    expect(unpublishableReason("t", sample, 5, size)).toBeUndefined();
    expect(unpublishableReason("t", sample, 5, size - 1)).toMatch(
      new RegExp(`${size} bytes, more than the broker's Maximum Packet Size of ${size - 1}`),
    );
  });

  it("user properties do not count on MQTT 3.1.1, which sends none", () => {
    expect(unpublishableReason("t", message(1, { pad: "p".repeat(70_000) }), 4, undefined)).toBeUndefined();
  });
});
