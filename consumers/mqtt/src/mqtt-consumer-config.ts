import type { JsonSchema } from "@flow/sdk";

export interface MqttConsumerConfig {
  url: string;
  topic: string;
  protocolVersion: 4 | 5;
  mode: "binary" | "structured";
  clientId?: string;
  username?: string;
  password?: string;
  retain: boolean;
  requireSubscribers: boolean;
  maxInFlight?: number;
  maxPacketBytes?: number;
  connectTimeoutMs: number;
  publishTimeoutMs: number;
}

export const mqttConsumerConfigSchema: JsonSchema = {
  title: "flow-consumer-mqtt configuration",
  type: "object",
  additionalProperties: false,
  required: ["topic"],
  properties: {
    url: {
      type: "string",
      minLength: 1,
      default: "mqtt://127.0.0.1:1883",
      description: "The broker: mqtt://host:port or mqtts://host:port.",
    },
    topic: {
      type: "string",
      minLength: 1,
      description: "The topic every event is published to (no wildcards).",
    },
    protocolVersion: {
      enum: [4, 5],
      default: 5,
      description: "5 (MQTT 5) or 4 (MQTT 3.1.1: structured mode only).",
    },
    mode: {
      enum: ["binary", "structured"],
      default: "binary",
      description:
        "binary: the CloudEvents attributes as MQTT 5 user properties and the data as payload; structured: the event in JSON (application/cloudevents+json) as payload.",
    },
    clientId: {
      type: "string",
      minLength: 1,
      maxLength: 256,
      description: "Client id (default: flow-<stage>-<random>).",
    },
    username: { type: "string" },
    password: { type: "string" },
    retain: { type: "boolean", default: false, description: "Publish with the retain flag." },
    requireSubscribers: {
      type: "boolean",
      default: true,
      description:
        'MQTT 5: a PUBACK saying "no matching subscribers" (the broker dropped the message) fails the batch, retryable, instead of answering WRITTEN.',
    },
    maxInFlight: {
      type: "integer",
      minimum: 1,
      maximum: 65535,
      description:
        "The most QoS 1 publishes awaiting their PUBACK. Default: the broker's Receive Maximum (MQTT 5), or 20 (Mosquitto's max_inflight_messages) on MQTT 3.1.1; never more than the broker's Receive Maximum.",
    },
    maxPacketBytes: {
      type: "integer",
      minimum: 64,
      maximum: 268435460,
      description:
        "The largest packet the broker takes (its max_packet_size), for a broker that does not state it in its CONNACK (MQTT 3.1.1 never does): an event whose PUBLISH packet is larger fails its batch permanently instead of being cut off by the broker again on every retry. The smaller of this and the broker's stated Maximum Packet Size applies.",
    },
    connectTimeoutMs: { type: "integer", minimum: 1, default: 10000 },
    publishTimeoutMs: {
      type: "integer",
      minimum: 1,
      default: 30000,
      description: "How long a batch may wait for its PUBACKs before it fails, retryable.",
    },
  },
};
