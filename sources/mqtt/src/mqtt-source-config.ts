import type { JsonSchema } from "@flow/sdk";

export interface MqttSourceConfig {
  url: string;
  clientId: string;
  topics: string[];
  protocolVersion: 4 | 5;
  sessionExpirySeconds: number;
  receiveMaximum: number;
  keepaliveSeconds: number;
  connectTimeoutMs: number;
  username?: string;
  password?: string;
  cloudEvents: "auto" | "off";
  eventType: string;
}

export const mqttSourceConfigSchema: JsonSchema = {
  title: "flow-source-mqtt configuration",
  type: "object",
  additionalProperties: false,
  required: ["clientId", "topics"],
  properties: {
    url: {
      type: "string",
      minLength: 1,
      default: "mqtt://127.0.0.1:1883",
      description: "The broker: mqtt://host:port or mqtts://host:port.",
    },
    clientId: {
      type: "string",
      minLength: 1,
      maxLength: 256,
      description:
        "The client id of the persistent session. Keep it stable: the broker keeps the unacknowledged and queued messages under it. Two running sources must not share one.",
    },
    topics: {
      type: "array",
      minItems: 1,
      items: { type: "string", minLength: 1 },
      description: "Topic filters to subscribe to at QoS 1 (wildcards + and # allowed).",
    },
    protocolVersion: {
      enum: [4, 5],
      default: 5,
      description:
        "5 (MQTT 5: session expiry, Receive Maximum, user properties, binary CloudEvents) or 4 (MQTT 3.1.1).",
    },
    sessionExpirySeconds: {
      type: "integer",
      minimum: 1,
      maximum: 4294967295,
      default: 86400,
      description:
        "MQTT 5 Session Expiry Interval: how long the broker keeps the session (and its messages) while the source is away. 4294967295 never expires. MQTT 3.1.1 sessions do not expire.",
    },
    receiveMaximum: {
      type: "integer",
      minimum: 1,
      maximum: 65535,
      default: 1000,
      description:
        "MQTT 5 Receive Maximum announced to the broker, and the most messages the source buffers before Core asks for them.",
    },
    keepaliveSeconds: { type: "integer", minimum: 0, maximum: 65535, default: 30 },
    connectTimeoutMs: { type: "integer", minimum: 1, default: 10000 },
    username: { type: "string" },
    password: { type: "string" },
    cloudEvents: {
      enum: ["auto", "off"],
      default: "auto",
      description:
        "auto: a message carrying a CloudEvent (binary mode: MQTT 5 user properties; structured mode: application/cloudevents+json) becomes that event; off: every message is a plain payload.",
    },
    eventType: {
      type: "string",
      minLength: 1,
      default: "flow.mqtt.message",
      description: "The type of events made of plain (non-CloudEvents) messages.",
    },
  },
};
