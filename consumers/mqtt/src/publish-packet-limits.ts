import type { EventMessage } from "./cloudevent-message";

/** The largest UTF-8 string MQTT can carry: its length is two bytes (MQTT 5 section 1.5.4). */
export const MQTT_MAX_STRING_BYTES = 65_535;

/** The largest Remaining Length, a four-byte Variable Byte Integer (MQTT 5 section 1.5.5): 256 MiB - 1. */
export const MQTT_MAX_REMAINING_LENGTH = 268_435_455;

/** A property's identifier (a Variable Byte Integer; every identifier MQTT 5 defines fits one byte). */
const PROPERTY_ID_BYTES = 1;

/** Bytes of a Variable Byte Integer holding `value`. */
function variableByteIntegerBytes(value: number): number {
  if (value < 128) return 1;
  if (value < 16_384) return 2;
  if (value < 2_097_152) return 3;
  return 4;
}

const stringBytes = (text: string): number => 2 + Buffer.byteLength(text, "utf8");

/** The Remaining Length of the QoS 1 PUBLISH packet that carries `message` to `topic`. */
function remainingLength(topic: string, message: EventMessage, protocolVersion: 4 | 5): number {
  const variableHeader = stringBytes(topic) + 2; // topic name, packet identifier
  if (protocolVersion === 4) return variableHeader + message.payload.length;
  let properties = 0;
  if (message.contentType) properties += PROPERTY_ID_BYTES + stringBytes(message.contentType);
  for (const [name, value] of Object.entries(message.userProperties ?? {}))
    properties += PROPERTY_ID_BYTES + stringBytes(name) + stringBytes(value);
  return variableHeader + variableByteIntegerBytes(properties) + properties + message.payload.length;
}

/** The whole QoS 1 PUBLISH packet's size, fixed header included, as the broker's Maximum Packet Size counts it. */
export function publishPacketBytes(topic: string, message: EventMessage, protocolVersion: 4 | 5): number {
  const remaining = remainingLength(topic, message, protocolVersion);
  return 1 + variableByteIntegerBytes(remaining) + remaining;
}

/**
 * Why `message` can never be published as one MQTT packet, or undefined when it can: a string no
 * two-byte length can hold (an attribute as a user property, a content type), a packet past
 * MQTT's largest, or past the broker's Maximum Packet Size (stated in its CONNACK, or configured).
 * No retry changes either: mqtt.js (mqtt-packet 9) writes a string over 64 KiB as a broken packet
 * (its two-byte length is looked up in a table that ends at 65535, and the write throws a
 * TypeError halfway through the packet), and a broker cuts the connection on a packet over its
 * maximum, on every retry.
 */
export function unpublishableReason(
  topic: string,
  message: EventMessage,
  protocolVersion: 4 | 5,
  maximumPacketSize: number | undefined,
): string | undefined {
  if (protocolVersion === 5) {
    for (const [name, value] of Object.entries(message.userProperties ?? {})) {
      const bytes = Math.max(Buffer.byteLength(name, "utf8"), Buffer.byteLength(value, "utf8"));
      if (bytes > MQTT_MAX_STRING_BYTES)
        return `its attribute "${name.length > 64 ? `${name.slice(0, 64)}...` : name}" is ${bytes} bytes as an MQTT 5 user property, which holds at most ${MQTT_MAX_STRING_BYTES} (mode "structured" carries the attributes in the payload instead)`;
    }
    if (message.contentType && Buffer.byteLength(message.contentType, "utf8") > MQTT_MAX_STRING_BYTES)
      return `its datacontenttype is ${Buffer.byteLength(message.contentType, "utf8")} bytes, more than the ${MQTT_MAX_STRING_BYTES} an MQTT 5 Content Type holds`;
  }
  const remaining = remainingLength(topic, message, protocolVersion);
  if (remaining > MQTT_MAX_REMAINING_LENGTH)
    return `its PUBLISH packet would be ${remaining} bytes long, more than MQTT's largest (${MQTT_MAX_REMAINING_LENGTH})`;
  const packet = publishPacketBytes(topic, message, protocolVersion);
  if (maximumPacketSize !== undefined && packet > maximumPacketSize)
    return `its PUBLISH packet is ${packet} bytes, more than the broker's Maximum Packet Size of ${maximumPacketSize} (its CONNACK's, or maxPacketBytes)`;
  return undefined;
}
