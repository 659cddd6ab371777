import type { JsonSchema } from "@flow/sdk";

export interface NatsConsumerConfig {
  servers: string[];
  user?: string;
  password?: string;
  token?: string;
  /** The subject events are published on; a JetStream stream must cover it. */
  subject: string;
  /** The stream the subject must land in (publishes expect it); default: whichever stream covers the subject. */
  stream?: string;
  /** binary: CloudEvents attributes as ce-* headers, the payload as the body; structured: the whole CloudEvent as JSON. */
  mode: "binary" | "structured";
  /** How long to wait for a PubAck before the batch is retried, in milliseconds. */
  ackTimeoutMs: number;
}

export const natsConsumerConfigSchema: JsonSchema = {
  title: "flow-consumer-nats configuration",
  type: "object",
  additionalProperties: false,
  required: ["subject"],
  properties: {
    servers: {
      type: "array",
      items: { type: "string", minLength: 1 },
      minItems: 1,
      default: ["nats://127.0.0.1:4222"],
      description: "The NATS servers to connect to, e.g. nats://127.0.0.1:4222 (any one is enough).",
    },
    user: { type: "string", description: "User name, with password." },
    password: { type: "string", description: "Password, with user." },
    token: { type: "string", description: "Authentication token (instead of user and password)." },
    subject: {
      type: "string",
      pattern: "^[^\\s*>]+$",
      description:
        "The subject every event is published on (no wildcards); a JetStream stream must cover it.",
    },
    stream: {
      type: "string",
      pattern: "^[^.*>\\s]+$",
      description:
        "The stream the subject must land in: each publish expects it, so a message stored elsewhere is refused. Default: whichever stream covers the subject.",
    },
    mode: {
      enum: ["binary", "structured"],
      default: "binary",
      description:
        "binary: the CloudEvents attributes as ce-* headers (datacontenttype as content-type), the payload as the body. structured: the whole event as CloudEvents JSON, content-type application/cloudevents+json.",
    },
    ackTimeoutMs: {
      type: "integer",
      minimum: 100,
      default: 5000,
      description:
        "How long to wait for JetStream's PubAck of each message, in milliseconds; a batch not acknowledged in time is answered retryable.",
    },
  },
};
